import FuzzSupport
import SBNLab

/// The dataset loader (`BinarizedMNIST`): shapes, declared sizes, pixel values, labels, hashes.
/// Seeds: a small prepared dataset (make fuzz writes one from the real file).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDataset(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data.map(UnsafeRawPointer.init) else { return 0 }
    let path = FuzzFile.write(start, count)
    _ = try? BinarizedMNIST(path: path)
    return 0
}
