#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The superblock of an HDF5 file, checked against the file's size before libhdf5 opens it.
///
/// libhdf5 1.10 trusts the superblock while it reads it: before it compares the stored end of file
/// with the file's size, it reads the driver-information block at the address and of the size
/// (a 32-bit field) the superblock gives, filling whatever lies past the end of the file with
/// zeros. A 49- or 193-byte file (found by `make fuzz`) made H5Fopen allocate and clear several
/// gigabytes. Every address the superblock holds must therefore lie inside the file first.
///
/// Layouts: the HDF5 File Format Specification, version 3.0, §II.A (superblock versions 0–3) and
/// §II.B (driver-information block).
enum Superblock {
    /// Throws `DamagedHDF5File` naming `path` when its superblock is truncated, or points outside
    /// the file; returns quietly when there is no signature (libhdf5 then reports that itself).
    static func validate(_ path: String) throws {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }  // H5Fopen reports why it cannot be opened
        defer { Glibc.close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else { return }
        let file = Reader(fd: fd, size: UInt64(status.st_size))
        guard let start = file.signatureOffset() else { return }
        do {
            try check(file, at: start)
        } catch let problem as Problem {
            throw DamagedHDF5File(path: path, reason: "damaged HDF5 superblock: \(problem.text)")
        }
    }

    private struct Problem: Error { let text: String }

    private static func check(_ file: Reader, at start: UInt64) throws(Problem) {
        let version = try file.byte(start + 8)
        let offsets = try file.byte(start + (version < 2 ? 13 : 9))
        let lengths = try file.byte(start + (version < 2 ? 14 : 10))
        guard version <= 3 else { throw Problem(text: "unknown version \(version)") }
        guard [2, 4, 8].contains(offsets), [2, 4, 8].contains(lengths) else {
            throw Problem(text: "address and length sizes \(offsets) and \(lengths) bytes (2, 4 or 8 expected)")
        }
        var fields = FieldCursor(file: file, at: start + (version == 0 ? 24 : version == 1 ? 28 : 12), width: offsets)
        let base = try fields.next(), extra = try fields.next()  // free space (v0/1) or extension (v2/3)
        let eof = try fields.next(), fourth = try fields.next()  // driver info (v0/1) or root header (v2/3)
        let root = version < 2 ? try fields.rootEntryHeader() : fourth
        guard let base else { throw Problem(text: "base address undefined") }
        guard base <= start else { throw Problem(text: "base address \(base) beyond the superblock at \(start)") }
        guard let eof, eof <= file.size else {  // libhdf5 compares it with the whole file's size
            throw Problem(text: "end of file at \(eof.map(String.init) ?? "undefined"), but the file has \(file.size) bytes")
        }
        guard let root, root < eof else {
            throw Problem(text: "root group at \(root.map(String.init) ?? "undefined"), beyond the end of file \(eof)")
        }
        if let extra, extra >= eof {
            let name = version < 2 ? "free-space index" : "superblock extension"
            throw Problem(text: "\(name) at \(extra), beyond the end of file \(eof)")
        }
        if version < 2, let driver = fourth {
            let (address, overflow) = base.addingReportingOverflow(driver)
            try checkDriverInfo(file, at: overflow ? .max : address)
        }
    }

    /// A driver-information block (only the family and multi drivers write one): 16 bytes of
    /// header, the last 8 of them the driver's name, then as many bytes as its 32-bit size says.
    private static func checkDriverInfo(_ file: Reader, at address: UInt64) throws(Problem) {
        guard address <= file.size, file.size - address >= 16 else {
            throw Problem(text: "driver information at \(address), beyond the file's \(file.size) bytes")
        }
        let size = try file.little(address + 4, width: 4)
        guard size <= file.size - address - 16 else {
            throw Problem(text: "driver information of \(size) bytes at \(address), beyond the file's \(file.size) bytes")
        }
    }

    /// Reads little-endian fields of the file at absolute offsets.
    private struct Reader {
        let fd: Int32
        let size: UInt64

        /// libhdf5 looks for the signature at 0, 512, 1024, 2048, … (after a user block).
        func signatureOffset() -> UInt64? {
            let signature: [UInt8] = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]
            var offset: UInt64 = 0
            while offset + 8 <= size {
                if (try? bytes(offset, 8)) == signature { return offset }
                offset = offset == 0 ? 512 : offset * 2
            }
            return nil
        }

        func byte(_ offset: UInt64) throws(Problem) -> UInt8 { try bytes(offset, 1)[0] }

        func little(_ offset: UInt64, width: UInt8) throws(Problem) -> UInt64 {
            try bytes(offset, Int(width)).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }

        private func bytes(_ offset: UInt64, _ count: Int) throws(Problem) -> [UInt8] {
            var buffer = [UInt8](repeating: 0, count: count)
            let read = offset < size ? buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) } : 0
            guard read == count else { throw Problem(text: "truncated (the file ends at byte \(size))") }
            return buffer
        }
    }

    /// Consecutive addresses of `width` bytes; nil for the undefined address (all bits set).
    private struct FieldCursor {
        let file: Reader
        var at: UInt64
        let width: UInt8

        mutating func next() throws(Problem) -> UInt64? {
            let value = try file.little(at, width: width)
            at += UInt64(width)
            return value == (width == 8 ? UInt64.max : (1 << (8 * UInt64(width))) - 1) ? nil : value
        }

        /// The root group's symbol-table entry (versions 0 and 1): its link-name offset, then its
        /// object header's address; then 24 bytes of cache type and scratch pad, which must be there.
        mutating func rootEntryHeader() throws(Problem) -> UInt64? {
            _ = try next()
            let header = try next()
            _ = try file.byte(at + 23)
            return header
        }
    }
}

/// A file that is not what libhdf5 may be given to read (its superblock points outside it).
public struct DamagedHDF5File: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let reason: String
    public var description: String { "\(path): \(reason)" }
}
