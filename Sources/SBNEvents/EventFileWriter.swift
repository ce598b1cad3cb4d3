#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One TensorBoard event file, written as TFRecords: each record is its length (8 bytes, little
/// endian), the masked CRC-32C of those 8 bytes, the data, and the masked CRC-32C of the data
/// (tensorflow/core/lib/io/record_writer.cc). Every record goes out in one `write(2)`, so a
/// SIGKILL leaves the file readable up to its last complete record; `flush()` also asks the
/// kernel to put it on disk. A failed write (a full disk) is reported once through `warn` and
/// turns the writer off: the run goes on without events.
public final class EventFileWriter {
    public let path: String
    private var descriptor: Int32
    private var frame: [UInt8] = []
    private let warn: (String) -> Void

    /// Creates `events.out.tfevents.<seconds>.<host>.<pid>` in `directory` (never an existing
    /// file: a resumed run starts a new file, as TensorBoard's own writers do after a restart).
    public init(directory: String, wallTime: Double, warn: @escaping (String) -> Void) throws(EventFileError) {
        var host = [CChar](repeating: 0, count: 256)
        let name =
            gethostname(&host, host.count) == 0
            ? String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "localhost"
        var seconds = Int(wallTime)
        var candidate = ""
        repeat {  // a name later than any this folder already has, so files sort in the order written
            candidate = "\(directory)/events.out.tfevents.\(tenDigits(seconds)).\(name).\(getpid())"
            seconds += 1
        } while access(candidate, F_OK) == 0
        path = candidate
        descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw EventFileError(description: "\(path): cannot create the event file (\(String(cString: strerror(errno))))")
        }
        self.warn = warn
        frame.reserveCapacity(1024)
    }

    deinit { close() }

    /// Whether records are still written (false after a failed write or `close`).
    public var isOpen: Bool { descriptor >= 0 }

    /// Appends one record holding `data` (an encoded Event).
    public func write(_ data: [UInt8]) {
        guard descriptor >= 0 else { return }
        frame.removeAll(keepingCapacity: true)
        var length = UInt64(data.count).littleEndian
        withUnsafeBytes(of: &length) { frame.append(contentsOf: $0) }
        var lengthCRC = CRC32C.masked(withUnsafeBytes(of: &length) { CRC32C.checksum($0) }).littleEndian
        withUnsafeBytes(of: &lengthCRC) { frame.append(contentsOf: $0) }
        frame.append(contentsOf: data)
        var dataCRC = CRC32C.masked(CRC32C.checksum(data)).littleEndian
        withUnsafeBytes(of: &dataCRC) { frame.append(contentsOf: $0) }
        let written = frame.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        if written != frame.count {
            fail(written < 0 ? String(cString: strerror(errno)) : "short write: the disk is full or the file at its size limit")
        }
    }

    /// Puts what was written on disk (fdatasync).
    public func flush() {
        guard descriptor >= 0 else { return }
        if fdatasync(descriptor) != 0 { fail(String(cString: strerror(errno))) }
    }

    public func close() {
        guard descriptor >= 0 else { return }
        _ = Glibc.close(descriptor)
        descriptor = -1
    }

    private func fail(_ reason: String) {
        warn("warning: \(path): cannot write TensorBoard events (\(reason)); the run goes on without them")
        close()
    }
}

public struct EventFileError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// Seconds since the epoch as ten digits, so that names sort by time.
func tenDigits(_ seconds: Int) -> String {
    let digits = String(seconds)
    return String(repeating: "0", count: max(0, 10 - digits.count)) + digits
}
