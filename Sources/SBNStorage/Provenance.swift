import Foundation

/// What produced a file: the SBNLab release and the exact code revision.
public enum Provenance {
    public static let version = "0.1.0"

    /// `git describe --always --dirty` of the working tree, or "unknown" outside a checkout.
    /// Recorded in every results file so that a number can be traced to the code that made it.
    public static let codeVersion: String = {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "describe", "--always", "--dirty", "--abbrev=12"]
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return "unknown" }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !text.isEmpty ? text : "unknown"
    }()
}
