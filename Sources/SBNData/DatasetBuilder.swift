import Foundation
import SBNDistributions
import SBNStorage

/// Builds `binarized_mnist.h5` from verified source files.
///
/// Layout: `/train|valid|test/images` UInt8 (N, 784) of 0/1, chunked and compressed, plus
/// `/…/labels` UInt8 (N) when the source has labels. Root attributes record the source, every
/// input file's name and sha256, the binarization method and seed, and the SBNLab version.
public struct DatasetBuilder {
    public enum Source: Sendable, Equatable {
        /// Larochelle & Murray 2011 fixed binarization, 50k/10k/10k: the paper's data.
        case binarizedMNIST
        /// Original MNIST, binarized here; train/valid is a fixed 50000/10000 split of the 60000.
        case mnist(Binarization, seed: UInt64)
    }

    public enum Binarization: String, Sendable, CaseIterable {
        case threshold  // pixel/255 > 0.5
        case sample  // Bernoulli(pixel/255), seeded
        /// The grey levels 0–255 as published, binarised afresh by whoever reads them (the
        /// semi-supervised experiment's dynamic binarisation, `DynamicBinarization`).
        case grey
    }

    public struct Split {
        public let name: String
        public let images: [UInt8]
        public let labels: [UInt8]?
        public var count: Int { images.count / ImageHalves.pixels }
    }

    public var source: Source
    public var dataRoot: String
    public var download: Bool

    public init(source: Source, dataRoot: String, download: Bool = false) {
        self.source = source
        self.dataRoot = dataRoot
        self.download = download
    }

    /// Verifies and converts the inputs, then writes `output` atomically.
    public func build(output: String) throws {
        let dir = (output as NSString).deletingLastPathComponent
        let folder = dir.isEmpty ? "." : dir
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: folder, isDirectory: &isDir) {
            do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
                throw DataError(file: folder, "output folder cannot be created")
            }
        } else if !isDir.boolValue || !FileManager.default.isWritableFile(atPath: folder) {
            throw DataError(file: folder, "output folder is not writable")
        }
        let (splits, inputs, attrs) = try loadSplits()
        try AtomicFile.writeHDF5(to: output) { file in
            for split in splits {
                let g = try file.createGroup(split.name)
                // The content's hash, which every run checks before it uses the split.
                try g.setAttribute("sha256", SHA256.hex(split.images))
                try g.write(
                    "images", split.images, shape: [split.count, ImageHalves.pixels],
                    chunks: [min(1000, max(split.count, 1)), ImageHalves.pixels], compression: 4)
                if let labels = split.labels {
                    try g.write(
                        "labels", labels, shape: [labels.count], chunks: [min(10000, max(labels.count, 1))], compression: 4)
                }
            }
            try file.setAttribute("source", attrs.source)
            try file.setAttribute("binarization", attrs.binarization)
            try file.setAttribute("binarization_seed", attrs.seed)
            try file.setAttribute("sbnlab_version", Provenance.version)
            try file.setAttribute("source_files", inputs.map { ($0.path as NSString).lastPathComponent }.joined(separator: ","))
            for input in inputs {
                try file.setAttribute("sha256:" + (input.path as NSString).lastPathComponent, input.sha256)
            }
        }
    }

    typealias Input = (path: String, sha256: String)

    func loadSplits() throws -> ([Split], [Input], (source: String, binarization: String, seed: Int64)) {
        switch source {
        case .binarizedMNIST:
            let folder = dataRoot + "/binarized_mnist"
            var splits: [Split] = [], inputs: [Input] = []
            for (name, expected) in [("train", 50000), ("valid", 10000), ("test", 10000)] {
                let entry = Checksums.binarizedMNIST[name]!
                let loaded = try SourceFiles.load(
                    entry, folder: folder, download: downloadTarget(SourceFiles.binarizedMNISTBaseURL))
                let parsed = try AmatParser.parse(loaded.content, file: loaded.path)
                guard parsed.rows == expected else {
                    throw DataError(file: loaded.path, "\(parsed.rows) rows, expected \(expected)")
                }
                splits.append(Split(name: name, images: parsed.pixels, labels: nil))
                inputs.append((loaded.path, loaded.sha256))
            }
            return (splits, inputs, ("binarized_mnist", "larochelle-fixed", -1))
        case let .mnist(method, seed):
            let folder = dataRoot + "/mnist"
            var files: [String: (content: [UInt8], path: String, sha256: String)] = [:]
            for key in ["train-images", "train-labels", "test-images", "test-labels"] {
                files[key] = try SourceFiles.load(
                    Checksums.mnist[key]!, folder: folder, download: downloadTarget(SourceFiles.mnistBaseURL))
            }
            let trainImages = try IDXParser.images(files["train-images"]!.content, file: files["train-images"]!.path)
            let testImages = try IDXParser.images(files["test-images"]!.content, file: files["test-images"]!.path)
            let trainLabels = try IDXParser.labels(files["train-labels"]!.content, file: files["train-labels"]!.path)
            let testLabels = try IDXParser.labels(files["test-labels"]!.content, file: files["test-labels"]!.path)
            for (img, path) in [(trainImages, files["train-images"]!.path), (testImages, files["test-images"]!.path)]
            where img.rows != 28 || img.cols != 28 {
                throw DataError(file: path, "images are \(img.rows)x\(img.cols), expected 28x28")
            }
            guard trainImages.count == 60000, trainLabels.count == 60000 else {
                throw DataError(file: files["train-images"]!.path, "expected 60000 training images and labels")
            }
            guard testImages.count == 10000, testLabels.count == 10000 else {
                throw DataError(file: files["test-images"]!.path, "expected 10000 test images and labels")
            }
            var rng = Xoshiro256(seed: seed, stream: 0xB1)
            let train = Self.binarize(trainImages.pixels, method, &rng)
            let test = Self.binarize(testImages.pixels, method, &rng)
            let cut = 50000 * ImageHalves.pixels
            let splits = [
                Split(name: "train", images: Array(train[..<cut]), labels: Array(trainLabels[..<50000])),
                Split(name: "valid", images: Array(train[cut...]), labels: Array(trainLabels[50000...])),
                Split(name: "test", images: test, labels: testLabels),
            ]
            let inputs = ["train-images", "train-labels", "test-images", "test-labels"].map {
                (files[$0]!.path, files[$0]!.sha256)
            }
            return (splits, inputs, ("mnist", method.rawValue, method == .sample ? Int64(bitPattern: seed) : -1))
        }
    }

    private func downloadTarget(_ base: String) -> (base: String, into: String)? {
        download ? (base, "data/downloads") : nil
    }

    static func binarize(_ pixels: [UInt8], _ method: Binarization, _ rng: inout Xoshiro256) -> [UInt8] {
        switch method {
        case .threshold:
            return pixels.map { $0 > 127 ? 1 : 0 }
        case .sample:
            return pixels.map { rng.nextUniform() < Float($0) / 255 ? 1 : 0 }
        case .grey:
            return pixels
        }
    }
}
