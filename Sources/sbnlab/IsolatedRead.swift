import ArgumentParser
import Foundation
import SBNLab
import SBNStorage

/// The command line's `UntrustedFile.isolate`: a file is first read by `sbnlab check-file` in a
/// child process, with the same readers; a child killed by a signal (libhdf5 faulting inside
/// its own code) or still running after `timeout` seconds (libhdf5 never returning; the child is
/// then killed) makes the file a one-line error, and this process never opens it. A child that
/// exits with an error is left to the reader here, which gives the same error message. Files
/// already checked by this process are not checked again unless they changed.
enum IsolatedRead {
    /// Seconds a child may take (`SBNLAB_READ_TIMEOUT` overrides; a real dataset takes < 1 s).
    static let timeout: Double = ProcessInfo.processInfo.environment["SBNLAB_READ_TIMEOUT"].flatMap(Double.init) ?? 60

    /// Installs the isolation, unless this process is the child.
    static func install() {
        guard CommandLine.arguments.dropFirst().first != CheckFileCommand.configuration.commandName else { return }
        UntrustedFile.isolate = { path, kind in try check(path, as: kind) }
    }

    /// (path, size, modification time) of the files that read cleanly.
    nonisolated(unsafe) static var checked: Set<String> = []

    static func check(_ path: String, as kind: UntrustedFile.Kind) throws {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return }  // the reader says why
        let key = "\(path)|\(attributes[.size] ?? 0)|\((attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0)"
        guard !checked.contains(key) else { return }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = [CheckFileCommand.configuration.commandName!, "--as", kind.rawValue, path]
        child.standardOutput = FileHandle.nullDevice
        child.standardError = FileHandle.nullDevice
        try HDF5File.startChild(child)
        let deadline = Date().addingTimeInterval(timeout)
        while child.isRunning && Date() < deadline { usleep(5_000) }
        if child.isRunning {
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            throw UntrustedFile.Unreadable(
                "\(path): libhdf5 did not finish reading this file within \(Int(timeout)) s (a damaged HDF5 structure); "
                    + "nothing was read from it")
        }
        if child.terminationReason == .uncaughtSignal {
            throw UntrustedFile.Unreadable(
                "\(path): libhdf5 crashed reading this file (signal \(child.terminationStatus), a damaged HDF5 structure "
                    + "such as a string heap); nothing was read from it")
        }
        checked.insert(key)
    }
}

/// `sbnlab check-file --as KIND PATH` (hidden): reads a file with the readers of its kind, in
/// the child process of `IsolatedRead`. Exit 0: it reads; 1: a reader's error (printed).
struct CheckFileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-file", abstract: "Read a file in isolation (used by sbnlab itself).", shouldDisplay: false)

    @Option(name: .customLong("as"), help: "dataset, record or checkpoint.")
    var kind: String

    @Argument var path: String

    func run() throws {
        try reportingErrors {
            switch UntrustedFile.Kind(rawValue: kind) {
            case .dataset: _ = try BinarizedMNIST(path: path)
            case .record: try Self.readRecord(path)
            case .checkpoint:
                let record = try ResultsFile.readRecord(path)
                guard record.hasCheckpoint else { return }
                try TrainingState(config: record.config).restore(from: path, record: record)
            case nil: throw ValidationError("--as: expected dataset, record or checkpoint, got \(kind)")
            }
        }
    }

    /// A summary, or a results file's record.
    static func readRecord(_ path: String) throws {
        if try HDF5File.open(path).contains("point") {
            _ = try SweepSummary.read(path)
        } else {
            _ = try ResultsFile.readRecord(path)
        }
    }
}
