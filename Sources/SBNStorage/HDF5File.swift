import CHDF5
import Foundation
// POSIX file calls (this module binds HDF5 and the file system): Glibc on Linux, Darwin on macOS.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An open HDF5 file. Its root group is the file itself (`path == "/"`).
///
/// Writers should go through `AtomicFile` so that a crash never leaves a half-written file
/// under the final name.
public final class HDF5File: HDF5Container {
    public enum Mode: Sendable { case readOnly, readWrite }

    public let id: hid_t
    /// Path on disk.
    public let filePath: String
    public var file: HDF5File { self }
    public var path: String { "/" }
    public var location: String { filePath }

    private init(id: hid_t, filePath: String) {
        self.id = id
        self.filePath = filePath
        markCloseOnExec()
    }

    /// HDF5 opens files without O_CLOEXEC and holds an flock on them. A child process started
    /// while the file is open (a sweep worker, python in a test) would inherit that lock and make
    /// later opens in this process fail with "unable to lock the file". The flag is set under
    /// `descriptorLock`, which `startChild` also holds, so no child starts in between.
    private func markCloseOnExec() {
        var handle: UnsafeMutableRawPointer?
        guard H5Fget_vfd_handle(id, sbn_H5P_DEFAULT(), &handle) >= 0, let handle else { return }
        let fd = handle.assumingMemoryBound(to: Int32.self).pointee
        let flags = fcntl(fd, F_GETFD)
        if flags >= 0 { _ = fcntl(fd, F_SETFD, flags | FD_CLOEXEC) }
    }

    /// Held from HDF5's open of a file until its descriptor is close-on-exec, and while a child
    /// process starts (`startChild`): one thread starting a child while another opens a file
    /// (parallel tests that run `sbnlab`) would otherwise hand the child the file's flock.
    private static let descriptorLock = NSLock()

    /// Starts `process` while no HDF5 file is between its open and its close-on-exec flag.
    public static func startChild(_ process: Process) throws {
        descriptorLock.lock()
        defer { descriptorLock.unlock() }
        try process.run()
    }

    /// Creates a new file, replacing any existing file at `path`.
    public static func create(_ path: String) throws -> HDF5File {
        quietHDF5()
        descriptorLock.lock()
        defer { descriptorLock.unlock() }
        let id = try check(
            id: H5Fcreate(path, sbn_H5F_ACC_TRUNC(), sbn_H5P_DEFAULT(), sbn_H5P_DEFAULT()),
            "\(path): cannot create HDF5 file")
        return HDF5File(id: id, filePath: path)
    }

    public static func open(_ path: String, mode: Mode = .readOnly) throws -> HDF5File {
        quietHDF5()
        try checkOpenable(path, mode: mode)
        try Superblock.validate(path)
        let flags = mode == .readOnly ? sbn_H5F_ACC_RDONLY() : sbn_H5F_ACC_RDWR()
        descriptorLock.lock()
        defer { descriptorLock.unlock() }
        let id = try check(id: H5Fopen(path, flags, sbn_H5P_DEFAULT()), "\(path): cannot open HDF5 file")
        return HDF5File(id: id, filePath: path)
    }

    /// A file that is missing, unreadable or not a regular file, said in the system's words:
    /// libhdf5's own message for it is internal detail ("unable to open file: time = …,
    /// tent_flags = 0; open failed") that does not say which.
    private static func checkOpenable(_ path: String, mode: Mode) throws {
        let fd = Glibc.open(path, (mode == .readOnly ? O_RDONLY : O_RDWR) | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw HDF5Error(operation: "\(path): cannot open (\(String(cString: strerror(errno))))")
        }
        defer { Glibc.close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG else {
            throw HDF5Error(operation: "\(path): not a regular file, so not an HDF5 file")
        }
    }

    /// Writes every buffered change to disk.
    public func flush() throws {
        try check(H5Fflush(id, H5F_SCOPE_GLOBAL), "\(filePath): flush")
    }

    deinit { H5Fclose(id) }
}
