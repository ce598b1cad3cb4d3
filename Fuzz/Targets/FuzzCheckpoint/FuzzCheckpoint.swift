import FuzzSupport
import SBNLab

/// The checkpoint restore path of a resume: the record, the configuration it holds (a network of
/// it is built only when that is small), the checkpoint's position checks and the tensors and
/// states restored in place (`TrainingState.restore`). Seeds: real run.h5 files.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCheckpoint(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    guard let start = data.map(UnsafeRawPointer.init) else { return 0 }
    let path = FuzzFile.write(start, count)
    guard let record = try? ResultsFile.readRecord(path), record.hasCheckpoint else { return 0 }
    guard let state = try? TrainingState(config: record.config) else { return 0 }
    _ = try? Trainer(config: record.config, resultsPath: path).validateCheckpoint(record, trainImages: 50_000)
    _ = try? state.restore(from: path, record: record)
    return 0
}
