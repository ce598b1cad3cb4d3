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
        try Superblock.validate(path)
        let flags = mode == .readOnly ? sbn_H5F_ACC_RDONLY() : sbn_H5F_ACC_RDWR()
        descriptorLock.lock()
        defer { descriptorLock.unlock() }
        let id = try check(id: H5Fopen(path, flags, sbn_H5P_DEFAULT()), "\(path): cannot open HDF5 file")
        return HDF5File(id: id, filePath: path)
    }

    /// Writes every buffered change to disk.
    public func flush() throws {
        try check(H5Fflush(id, H5F_SCOPE_GLOBAL), "\(filePath): flush")
    }

    deinit { H5Fclose(id) }
}
