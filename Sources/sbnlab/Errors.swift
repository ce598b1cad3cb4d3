import ArgumentParser
import Foundation

/// Runs `body`; any error is printed as one line on stderr and the command exits with status 1.
func reportingErrors<T>(_ body: () throws -> T) throws -> T {
    do { return try body() } catch let exit as ExitCode { throw exit } catch {
        let line = message(error).split(separator: "\n").joined(separator: " ")
        try? FileHandle.standardError.write(contentsOf: Data("sbnlab: error: \(line)\n".utf8))
        throw ExitCode(1)
    }
}

/// Our errors describe themselves; Foundation's file errors (an NSError dump by default) become
/// "<path>: <what the system said>", e.g. "results: File exists".
func message(_ error: any Error) -> String {
    let ns = error as NSError
    guard ns.domain == NSCocoaErrorDomain else { return String(describing: error) }
    let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path ?? "file"
    let known = [
        NSFileWriteFileExistsError: "a file of that name exists", NSFileWriteOutOfSpaceError: "no space left on device",
        NSFileWriteNoPermissionError: "permission denied", NSFileNoSuchFileError: "no such file or folder",
        NSFileReadNoSuchFileError: "no such file", NSFileReadNoPermissionError: "permission denied",
    ]
    let reason =
        (ns.userInfo[NSUnderlyingErrorKey] as? NSError).map { String(cString: strerror(Int32($0.code))) }
        ?? known[ns.code] ?? "cannot be created or written (a part of the path is missing or not a folder)"
    return "\(path): \(reason)"
}

/// Writes a line to stdout unbuffered, so progress shows up at once even through a pipe.
/// A progress line on stdout. A reader that went away (`sbnlab run … | head -1`) must not stop
/// training: SIGPIPE is ignored (`StopRequest.install`) and a failed write is dropped.
func emit(_ line: String) {
    try? FileHandle.standardOutput.write(contentsOf: Data((line + "\n").utf8))
}

/// A count flag outside its range is a usage error (exit 64) naming the flag and the range.
func expectCount(_ flag: String, _ value: Int?, in range: ClosedRange<Int>) throws {
    guard let value, !range.contains(value) else { return }
    throw ValidationError("\(flag): expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(value)")
}
