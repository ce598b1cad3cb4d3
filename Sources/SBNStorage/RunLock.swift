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

    /// Locks the run whose results file is `results`.
    public init(results: String) throws {
        path = results + ".lock"
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw Held(description: "\(path): cannot open the run's lock file (\(String(cString: strerror(errno))))")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            close(fd)
            throw Held(description: "\(results): another process is writing this run (\(holder?.isEmpty == false ? holder! : "holder unknown")); "
                       + "wait for it or stop it")
        }
        let me = "pid \(getpid()) on \(ProcessInfo.processInfo.hostName)\n"
        _ = ftruncate(fd, 0)
        _ = me.withCString { write(fd, $0, strlen($0)) }
    }

    deinit {
        _ = flock(fd, LOCK_UN)
        close(fd)
    }
}
