import FuzzSupport
import SBNLab

/// Results and summary files: `ResultsFile.readRecord` (what show, collect and resume read) and
/// `SweepSummary.read`. Seeds: real run.h5 and summary.h5 files (make fuzz).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzResults(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data.map(UnsafeRawPointer.init) else { return 0 }
    let path = FuzzFile.write(start, count)
    _ = try? ResultsFile.readRecord(path)
    _ = try? SweepSummary.read(path)
    return 0
}
