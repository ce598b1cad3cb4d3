import Foundation
import SBNData
import SBNStorage
import SBNTestSupport
import Testing

/// Every bad input gives a one-line error that names the file and the problem, and leaves no
/// output file behind.
@Suite struct BadInputTests {
    let dir = TestPaths.temporaryDirectory(prefix: "bad-input")

    /// A data root whose binarized_mnist/ holds copies of the genuine files, one of them altered.
    func rootWithAlteredTrainFile(_ alter: (inout [UInt8]) -> Void) throws -> String {
        let root = dir + "/root", folder = root + "/binarized_mnist"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for split in ["train", "valid", "test"] {
            var bytes = try SourceFiles.readFile(TestPaths.sharedData + "/binarized_mnist/binarized_mnist_\(split).amat.gz")
            if split == "train" { alter(&bytes) }
            try Data(bytes).write(to: URL(fileURLWithPath: "\(folder)/binarized_mnist_\(split).amat.gz"))
        }
        return root
    }

    func expectDataError(_ contains: String, file: String, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected an error containing '\(contains)'")
        } catch let e as DataError {
            #expect(e.description.contains(contains), "\(e)")
            #expect(e.description.contains(file), "\(e)")
            #expect(!e.description.contains("\n"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func wrongChecksumIsRejectedAndNothingIsWritten() throws {
        let root = try rootWithAlteredTrainFile { $0[100] ^= 0xFF }
        let out = dir + "/out.h5"
        expectDataError("sha256 mismatch", file: "binarized_mnist_train.amat.gz") {
            try DatasetBuilder(source: .binarizedMNIST, dataRoot: root).build(output: out)
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains("tmp") }.isEmpty)
    }

    @Test func truncatedGzipIsRejected() throws {
        let bytes = try SourceFiles.readFile(TestPaths.sharedData + "/binarized_mnist/binarized_mnist_valid.amat.gz")
        expectDataError("truncated gzip", file: "valid.amat.gz") {
            _ = try Gzip.decompress(Array(bytes.prefix(bytes.count / 2)), file: "valid.amat.gz")
        }
        expectDataError("corrupt gzip", file: "garbage.gz") {
            _ = try Gzip.decompress([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xff], file: "garbage.gz")
        }
    }

    @Test func wrongIDXMagicIsRejected() throws {
        var bytes = try Gzip.decompress(
            try SourceFiles.readFile(TestPaths.sharedData + "/mnist/t10k-labels-idx1-ubyte.gz"), file: "labels")
        expectDataError("wrong IDX magic number 2049, expected 2051", file: "t10k-labels") {
            _ = try IDXParser.images(bytes, file: "t10k-labels")
        }
        bytes[3] = 0x07
        expectDataError("wrong IDX magic", file: "t10k-labels") { _ = try IDXParser.labels(bytes, file: "t10k-labels") }
    }

    @Test func raggedAmatRowIsRejected() {
        let row = Array(repeating: "0", count: 784).joined(separator: " ")
        let short = Array(repeating: "1", count: 783).joined(separator: " ")
        let text = Array((row + "\n" + short + "\n" + row + "\n").utf8)
        expectDataError("line 2: ragged row with 783 values, expected 784", file: "x.amat") {
            _ = try AmatParser.parse(text, file: "x.amat")
        }
        expectDataError("line 1: value is not 0 or 1", file: "y.amat") {
            _ = try AmatParser.parse(Array("0 2 1\n".utf8), columns: 3, file: "y.amat")
        }
    }

    @Test func unwritableOutputFolderIsRejected() throws {
        let blocker = dir + "/a-file"
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        expectDataError("output folder", file: blocker) {
            try DatasetBuilder(source: .binarizedMNIST, dataRoot: TestPaths.sharedData).build(output: blocker + "/out.h5")
        }
    }

    @Test func missingSourceNamesTheFile() {
        expectDataError("not found", file: "binarized_mnist_train.amat.gz") {
            try DatasetBuilder(source: .binarizedMNIST, dataRoot: dir + "/nowhere").build(output: dir + "/o.h5")
        }
    }

    /// The command line: one line on stderr, non-zero exit, no output file.
    @Test func commandLineReportsOneLineAndExitsNonZero() throws {
        guard let bin = TestPaths.sbnlabBinary else {
            Issue.record("sbnlab binary not built")
            return
        }
        let root = try rootWithAlteredTrainFile { $0[5000] ^= 1 }
        let out = dir + "/cli.h5"
        let r = try runCommand(bin, ["data", "--data-root", root, "--output", out])
        #expect(r.status != 0)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("binarized_mnist_train.amat.gz: sha256 mismatch"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}

/// The prepared dataset is checked on every load: a file whose splits are empty, hold
/// non-binary pixels, or differ from the content `sbnlab data` hashed is an error naming it.
@Suite struct PreparedDatasetTests {
    let dir = TestPaths.temporaryDirectory(prefix: "prepared")

    /// Writes a dataset file of `images` per split (2 × 784 zeros by default), each split's
    /// recorded sha256 that of `hashed` (default: its images), or none.
    func write(
        _ name: String, images: [String: [UInt8]] = [:], hashed: [String: [UInt8]] = [:],
        recordHash: Bool = true
    ) throws -> String {
        let path = dir + "/" + name
        try AtomicFile.writeHDF5(to: path) { f in
            for split in ["train", "valid", "test"] {
                let bytes = images[split] ?? [UInt8](repeating: 0, count: 2 * ImageHalves.pixels)
                let g = try f.createGroup(split)
                if recordHash { try g.setAttribute("sha256", SHA256.hex(hashed[split] ?? bytes)) }
                try g.write("images", bytes, shape: [bytes.count / ImageHalves.pixels, ImageHalves.pixels])
            }
        }
        return path
    }

    func expectError(_ path: String, _ expected: String) {
        do {
            _ = try BinarizedMNIST(path: path)
            Issue.record("expected: \(expected)")
        } catch {
            #expect("\(error)" == "\(path): \(expected)")
        }
    }

    @Test func badPreparedFilesAreRefused() throws {
        #expect(try BinarizedMNIST(path: write("good.h5")).train.count == 2)
        expectError(try write("empty.h5", images: ["test": []]), "/test/images is empty")
        var two = [UInt8](repeating: 0, count: 2 * ImageHalves.pixels)
        two[5] = 2
        expectError(try write("two.h5", images: ["valid": two]), "/valid/images holds the value 2; expected 0/1")
        var flipped = [UInt8](repeating: 0, count: 2 * ImageHalves.pixels)
        flipped[700] = 1
        let altered = try write(
            "altered.h5", images: ["train": flipped], hashed: ["train": [UInt8](repeating: 0, count: 2 * 784)])
        expectError(
            altered,
            "/train/images does not match the sha256 `sbnlab data` recorded (altered?); "
                + "prepare it again: sbnlab data --output \(altered)")
        let old = try write("old.h5", recordHash: false)
        expectError(
            old, "/train has no recorded sha256 (prepared by an older sbnlab); prepare it again: sbnlab data --output \(old)")
    }
}
