import CHDF5

/// An HDF5 failure: what we were doing, on which file or object, and HDF5's own message.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public let hdf5Message: String

    public init(operation: String, hdf5Message: String = "") {
        self.operation = operation
        self.hdf5Message = hdf5Message
    }

    public var description: String {
        hdf5Message.isEmpty ? operation : "\(operation): \(hdf5Message)"
    }

    /// Captures the current HDF5 error stack (innermost description first) and clears it.
    static func current(_ operation: String) -> HDF5Error {
        var messages: [String] = []
        withUnsafeMutablePointer(to: &messages) { ptr in
            _ = H5Ewalk2(
                sbn_H5E_DEFAULT(), H5E_WALK_DOWNWARD,
                { _, err, context in
                    guard let err, let desc = err.pointee.desc, let context else { return 0 }
                    let list = context.assumingMemoryBound(to: [String].self)
                    let text = String(cString: desc)
                    if !text.isEmpty && !list.pointee.contains(text) { list.pointee.append(text) }
                    return 0
                }, ptr)
        }
        H5Eclear2(sbn_H5E_DEFAULT())
        return HDF5Error(operation: operation, hdf5Message: messages.prefix(3).joined(separator: "; "))
    }
}

/// Turns off HDF5's automatic printing of its error stack: every failure is reported through
/// `HDF5Error` instead. Runs once, before the first HDF5 call.
let hdf5Initialized: Bool = {
    // No library clean-up at exit: after a failed write (a full disk) H5Fclose has already torn the
    // file down, and the atexit pass closing it again dereferenced freed memory (exit status 139).
    // Every file is closed by its owner; a writer finishes (or unlinks) its file before returning.
    H5dont_atexit()
    H5open()
    H5Eset_auto2(sbn_H5E_DEFAULT(), nil, nil)
    return true
}()

/// Initialises HDF5 once, and turns its automatic error printing off on the calling thread too:
/// in a thread-safe HDF5 that setting is per thread, and a read on another thread (a sweep's
/// summary beside its workers) printed HDF5's multi-line diagnostics. Called at every file open.
func quietHDF5() {
    _ = hdf5Initialized
    H5Eset_auto2(sbn_H5E_DEFAULT(), nil, nil)
}

@inline(__always)
func check(_ status: herr_t, _ operation: @autoclosure () -> String) throws {
    if status < 0 { throw HDF5Error.current(operation()) }
}

@inline(__always)
func check(id: hid_t, _ operation: @autoclosure () -> String) throws -> hid_t {
    if id < 0 { throw HDF5Error.current(operation()) }
    return id
}
