import Foundation

/// Locating, downloading and verifying input files.
public enum SourceFiles {
    /// The public URLs the literature uses. The Larochelle files are served uncompressed.
    public static let binarizedMNISTBaseURL = "http://www.cs.toronto.edu/~larocheh/public/datasets/binarized_mnist/"
    public static let mnistBaseURL = "https://ossci-datasets.s3.amazonaws.com/mnist/"

    /// The default folder of genuine data: `$SBNLAB_DATA_ROOT`, else `../shared/data`.
    public static func defaultRoot() -> String {
        ProcessInfo.processInfo.environment["SBNLAB_DATA_ROOT"] ?? "../shared/data"
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(file: path, "cannot read file (missing or unreadable)")
        }
        return [UInt8](data)
    }

    /// Reads, verifies and (if gzip'd) decompresses one input. Looks for the gzip'd name first,
    /// then the uncompressed name, in `folder`; if neither exists and `download` is set, fetches
    /// the uncompressed (or gzip'd, for MNIST) file into `downloadFolder` first.
    /// - Returns: the decompressed content and the path and sha256 that were verified.
    public static func load(_ entry: Checksums.Entry, folder: String, download: (base: String, into: String)? = nil)
        throws -> (content: [UInt8], path: String, sha256: String)
    {
        let fm = FileManager.default
        let gz = folder + "/" + entry.name
        let raw = folder + "/" + entry.rawName
        if fm.fileExists(atPath: gz) {
            let bytes = try readFile(gz)
            try Checksums.verify(bytes, expected: entry.gzipSHA256, file: gz)
            return (try Gzip.decompress(bytes, file: gz), gz, entry.gzipSHA256)
        }
        if fm.fileExists(atPath: raw) {
            let bytes = try readFile(raw)
            try Checksums.verify(bytes, expected: entry.rawSHA256, file: raw)
            return (bytes, raw, entry.rawSHA256)
        }
        guard let download else {
            throw DataError(file: gz, "not found (nor \(entry.rawName)); pass --download or --data-root")
        }
        try fm.createDirectory(atPath: download.into, withIntermediateDirectories: true)
        let servesGzip = download.base == mnistBaseURL
        let name = servesGzip ? entry.name : entry.rawName
        try fetch(download.base + name, to: download.into + "/" + name)
        return try load(entry, folder: download.into, download: nil)
    }

    /// Downloads with curl into a temporary name, then renames (verification happens on load).
    static func fetch(_ url: String, to path: String) throws {
        let tmp = path + ".download"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-fsSL", "--retry", "3", "-o", tmp, url]
        do { try process.run() } catch { throw DataError(file: url, "cannot run curl: \(error)") }
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            try? FileManager.default.removeItem(atPath: tmp)
            throw DataError(file: url, "download failed (curl exit \(process.terminationStatus))")
        }
        try FileManager.default.moveItem(atPath: tmp, toPath: path)
    }
}
