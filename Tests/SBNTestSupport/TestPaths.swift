import Foundation
import SBNData
import SBNStorage

/// Locations the tests share: the package root, the genuine data in ../shared/data, the built
/// `sbnlab` binary, and fresh temporary folders.
public enum TestPaths {
    /// The package root, found from this file's path (Tests/SBNTestSupport/TestPaths.swift).
    public static let packageRoot: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()

    /// `$SBNLAB_DATA_ROOT`, else ../shared/data beside the package.
    public static var sharedData: String {
        ProcessInfo.processInfo.environment["SBNLAB_DATA_ROOT"]
            ?? URL(fileURLWithPath: packageRoot).deletingLastPathComponent().appendingPathComponent("shared/data").path
    }

    /// The prepared dataset, built once per test process from the genuine files if missing.
    public static let preparedDataset: String = {
        let path = temporaryDirectory(prefix: "dataset") + "/binarized_mnist.h5"
        try! DatasetBuilder(source: .binarizedMNIST, dataRoot: sharedData).build(output: path)
        return path
    }()

    /// The `sbnlab` executable of the configuration these tests were built in (`swift test`
    /// builds it alongside), never a stale binary of the other configuration.
    public static var sbnlabBinary: String? {
        #if DEBUG
        let p = packageRoot + "/.build/debug/sbnlab"
        #else
        let p = packageRoot + "/.build/release/sbnlab"
        #endif
        return FileManager.default.isExecutableFile(atPath: p) ? p : nil
    }

    public static func temporaryDirectory(prefix: String = "sbnlab-test") -> String {
        let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Runs a command and captures its exit status, stdout and stderr.
public struct CommandResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

public func runCommand(
    _ executable: String, _ arguments: [String], in directory: String? = nil, environment: [String: String] = [:]
) throws -> CommandResult {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if !environment.isEmpty { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try HDF5File.startChild(p)
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return CommandResult(
        status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

/// Whether python3 with h5py is available (tests that need it are disabled, and reported as
/// skipped, when it is not; `.ci/run` installs it).
public let hasPythonWithH5py: Bool = pythonWithH5py().path != nil

/// python3 with h5py, or the reason it cannot be used.
public func pythonWithH5py() -> (path: String?, reason: String) {
    guard let r = try? runCommand("/usr/bin/env", ["python3", "-c", "import h5py; print(h5py.__version__)"]), r.status == 0 else {
        return (nil, "python3 with h5py not available")
    }
    return ("/usr/bin/env", "")
}
