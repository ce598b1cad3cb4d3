import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One writer per run: an advisory `flock` on `<results>.lock`, held for the life of this object
/// (the process's run). A second process on the same run fails at once with the holder's PID and
/// host, which the holder writes into the lock file. The kernel releases the lock when the
/// process ends, however it ends, so a stale lock file is harmless.
public final class RunLock {
    public struct Held: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    private let fd: Int32
    public let path: String

    /// Locks the run whose results file is `results`, then removes the temporary files that
    /// writers of this run killed mid-write left behind (`AtomicFile`'s `<results>.tmp-<pid>`
    /// whose process is gone): only the lock holder may, so no live write loses its file.
    public convenience init(results: String) throws {
        try self.init(
            lockFile: results + ".lock", results: results,
            busy: { "\(results): another process is writing this run (\($0)); wait for it or stop it" })
    }

    /// A lock on `lockFile`; `busy(holder)` is the message when another process holds it, and
    /// stale temporaries of `results` are removed once it is taken.
    public init(lockFile: String, results: String, busy: (String) -> String) throws {
        path = lockFile
        // Never through a symbolic link (its target would be truncated), and only a regular file.
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o644)
        guard fd >= 0 else {
            let reason = errno == ELOOP ? "it is a symbolic link" : String(cString: strerror(errno))
            throw Held(description: "\(path): cannot open the run's lock file (\(reason))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw Held(description: "\(path): the run's lock file is not a regular file")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw Held(description: busy(holder?.isEmpty == false ? holder! : "holder unknown"))
        }
        let me = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(fd, 0)
        _ = me.withCString { write(fd, $0, strlen($0)) }
        Self.removeStaleTemporaries(of: results)
    }

    /// Unlinks `<results>.tmp-<pid>` files whose process no longer exists.
    static func removeStaleTemporaries(of results: String) {
        let folder = (results as NSString).deletingLastPathComponent, name = (results as NSString).lastPathComponent
        let prefix = name + ".tmp-"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: folder.isEmpty ? "." : folder)) ?? []
        where entry.hasPrefix(prefix) {
            guard let pid = Int32(entry.dropFirst(prefix.count)), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { unlink((folder.isEmpty ? "" : folder + "/") + entry) }
        }
    }

    deinit {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
