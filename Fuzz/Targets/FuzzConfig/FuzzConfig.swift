import Foundation
import FuzzSupport
import SBNLab

/// Experiment definitions: the input's first line-separated block is a YAML file, every further
/// line a `--set` value, through `ConfigLoader.load` (extends:, the component registries, the
/// cross checks) and `SweepDefinition.load`. Seeds: the files of experiments/.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data.map(UnsafeRawPointer.init) else { return 0 }
    let text = String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    let parts = text.components(separatedBy: "\n---sets---\n")
    let overrides = parts.count > 1 ? parts[1].split(separator: "\n").map(String.init) : []
    let path = NSTemporaryDirectory() + "sbnlab-fuzz-\(getpid()).yaml"
    FileManager.default.createFile(atPath: path, contents: Data(parts[0].utf8))
    _ = try? ConfigLoader.load(path, overrides: overrides)
    _ = try? SweepDefinition.load(path, overrides: overrides)
    return 0
}
