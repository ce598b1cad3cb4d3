/// Files SBNLab reads but may not have written: a prepared dataset, a results file, a sweep
/// summary, each possibly edited by hand or damaged. Every value read from them is validated by
/// their readers; but libhdf5 1.10 itself faults (its global-heap reader, H5HG_read, on a damaged
/// string heap) or never returns on some damaged files (found by `make fuzz`; the inputs are in
/// Fuzz/crashes/), and nothing in-process can guard against that.
///
/// So the readers call `check` before they open such a file, and the command line installs
/// `isolate`: it reads the file once in a child process first, and turns a child that dies by a
/// signal or does not finish into a one-line error naming the file. Without it (the library used
/// in-process, the tests of the readers themselves) `check` does nothing.
public enum UntrustedFile {
    public enum Kind: String, Sendable, CaseIterable {
        /// A prepared dataset (`BinarizedMNIST`).
        case dataset
        /// A results file's record (configuration, metrics, test results) or a sweep summary.
        case record
        /// A results file's record and checkpoint (what a resume, `impute` or `figure` reads).
        case checkpoint
    }

    /// A file libhdf5 cannot read without crashing or hanging.
    public struct Unreadable: Error, CustomStringConvertible, Sendable {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    /// The reader in isolation; set once by the command line before anything is read.
    nonisolated(unsafe) public static var isolate: (@Sendable (String, Kind) throws -> Void)?

    /// Throws `Unreadable` when reading `path` as `kind` would crash or hang this process.
    public static func check(_ path: String, as kind: Kind) throws { try isolate?(path, kind) }
}
