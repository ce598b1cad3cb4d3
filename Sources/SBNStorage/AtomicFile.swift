import Foundation
// POSIX file calls (this module binds HDF5 and the file system): Glibc on Linux, Darwin on macOS.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Write-then-rename: a file is built under a temporary name in the same folder and only renamed
/// onto its final name once complete, so a crash or an error never leaves a partial file there
/// and never destroys the previous good version.
public enum AtomicFile {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(description: String) { self.description = description }
    }

    /// The temporary name used while `path` is being written.
    public static func temporaryPath(for path: String) -> String { "\(path).tmp-\(getpid())" }

    /// Calls `body` with a temporary path, then renames it onto `path`. If `body` throws, the
    /// temporary file is removed and `path` is left untouched.
    public static func write<R>(to path: String, _ body: (String) throws -> R) throws -> R {
        // The rename would replace a symbolic link, FIFO or device node with a regular file (as
        // root, /dev/full once became one): only regular files are replaced.
        var info = stat()
        if lstat(path, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG {
            throw Failure(description: "\(path): exists and is not a regular file (a link, FIFO, device or folder); not replaced")
        }
        let tmp = temporaryPath(for: path)
        unlink(tmp)
        let result: R
        do {
            result = try body(tmp)
        } catch let error as HDF5Error {
            // A failed write (a full disk, most often) names the file the caller asked for.
            unlink(tmp)
            throw Failure(description: "\(path): not written, the previous version is kept (\(error))")
        } catch {
            unlink(tmp)
            // Name the file asked for, not the temporary one, with what the system said.
            let ns = error as NSError
            guard ns.domain == NSCocoaErrorDomain else { throw error }
            let code =
                (ns.userInfo[NSUnderlyingErrorKey] as? NSError)?.code
                ?? [NSFileWriteNoPermissionError: Int(EACCES), NSFileWriteOutOfSpaceError: Int(ENOSPC)][ns.code] ?? Int(EIO)
            throw Failure(description: "\(path): not written (\(String(cString: strerror(Int32(code)))))")
        }
        try syncFile(tmp)
        if rename(tmp, path) != 0 {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw Failure(description: "\(path): cannot rename temporary file into place: \(reason)")
        }
        return result
    }

    /// Writes `text` (UTF-8) to `path` the same way.
    public static func writeText(_ text: String, to path: String) throws {
        try write(to: path) { tmp in
            guard FileManager.default.createFile(atPath: tmp, contents: Data(text.utf8)) else {
                throw Failure(description: "\(path): cannot write (\(String(cString: strerror(errno))))")
            }
        }
    }

    /// Creates an HDF5 file at a temporary name, lets `body` fill it, closes it, then renames it
    /// onto `path`.
    public static func writeHDF5<R>(to path: String, _ body: (HDF5File) throws -> R) throws -> R {
        try write(to: path) { tmp in
            let file = try HDF5File.create(tmp)
            let result = try body(file)
            try file.flush()
            return result
        }
    }

    private static func syncFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw Failure(description: "\(path): cannot open for sync: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        fsync(fd)
    }
}
