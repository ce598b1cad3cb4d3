import Foundation
import SBNLab

/// The input as a file: the readers under test open paths (HDF5 reads files, not buffers). One
/// path per process, rewritten for every input.
public enum FuzzFile {
    public static let path = NSTemporaryDirectory() + "sbnlab-fuzz-\(getpid()).h5"

    public static func write(_ start: UnsafeRawPointer, _ count: Int) -> String {
        FileManager.default.createFile(atPath: path, contents: Data(bytes: start, count: count))
        return path
    }
}
