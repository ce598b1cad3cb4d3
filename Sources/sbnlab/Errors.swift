import ArgumentParser
import Foundation

/// Runs `body`; any error is printed as one line on stderr and the command exits with status 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let exit as ExitCode { throw exit } catch {
        let line = String(describing: error).split(separator: "\n").joined(separator: " ")
        FileHandle.standardError.write(Data("sbnlab: error: \(line)\n".utf8))
        throw ExitCode(1)
    }
}

/// Writes a line to stdout unbuffered, so progress shows up at once even through a pipe.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
