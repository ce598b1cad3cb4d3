import Foundation

/// What produced a file: the SBNLab release and the exact code revision.
public enum Provenance {
    public static let version = "0.1.0"

    /// The code revision of this build, recorded in every results file so that a number can be
    /// traced to the code that made it. `make build` (and `make test`, `make bench`) write
    /// `git describe --always --dirty` into `sbnlab.version` beside the executable at build time;
    /// without that file it is the `git describe` of the checkout that holds the executable, and
    /// "unknown" outside one. Never the user's working directory.
    public static let codeVersion: String = {
        guard let folder = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent().path else {
            return "unknown"
        }
        if let text = try? String(contentsOfFile: folder + "/sbnlab.version", encoding: .utf8) {
            let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
            if !line.isEmpty { return line }
        }
        return gitDescribe(folder) ?? "unknown"
    }()

    static func gitDescribe(_ folder: String) -> String? {
        let process = Process()
        let pipe = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "-C", folder, "describe", "--always", "--dirty", "--abbrev=12"]
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try HDF5File.startChild(process) } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && !text.isEmpty ? text : nil
    }
}
