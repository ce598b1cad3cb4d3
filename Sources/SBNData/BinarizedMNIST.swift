import Foundation
import SBNStorage

/// The prepared dataset (`data/binarized_mnist.h5`), loaded into memory: 50000 × 784 bytes for
/// training is 39 MB, so holding it is cheaper than streaming it. Every load checks each split:
/// not empty, pixels 0/1, and the SHA-256 of its images equal to the one `sbnlab data` recorded
/// (attribute `sha256` of the split's group), so a changed file is an error, not a number.
public struct BinarizedMNIST: Sendable {
    public struct Split: Sendable {
        public let images: [UInt8]  // row-major N × 784, values 0/1
        public let labels: [UInt8]?
        /// Whether the pixels are grey levels 0–255 (binarised by the reader) rather than 0/1.
        public var grey = false
        public var count: Int { images.count / ImageHalves.pixels }

        public init(images: [UInt8], labels: [UInt8]?, grey: Bool = false) {
            self.images = images
            self.labels = labels
            self.grey = grey
        }

        /// The first `n` images (the whole split when `n` is nil or larger).
        public func prefix(_ n: Int?) -> Split {
            guard let n, n < count else { return self }
            return Split(images: Array(images[..<(n * ImageHalves.pixels)]), labels: labels.map { Array($0[..<n]) }, grey: grey)
        }
    }

    public let path: String
    public let train: Split
    public let valid: Split
    public let test: Split

    public static let defaultPath = "data/binarized_mnist.h5"

    /// The most images a split may declare (MNIST has 70000 in all): a larger declared shape is
    /// refused before anything is allocated for it, and so is one the machine's memory cannot hold.
    public static let maxImages = 1 << 20

    public init(path: String = defaultPath) throws {
        self.path = path
        try UntrustedFile.check(path, as: .dataset)
        let file: HDF5File
        do { file = try HDF5File.open(path) } catch let damaged as DamagedHDF5File {
            throw DataError(file: path, damaged.reason)
        } catch {
            throw DataError(file: path, "cannot open dataset (run `make data` first): \(error)")
        }
        // Grey levels (`sbnlab data --binarize grey`) are binarised by the reader; anything else is 0/1.
        let grey = file.hasAttribute("binarization") && (try? file.stringAttribute("binarization")) == "grey"
        train = try Self.load("train", from: file, path: path, grey: grey)
        valid = try Self.load("valid", from: file, path: path, grey: grey)
        test = try Self.load("test", from: file, path: path, grey: grey)
    }

    /// One split: its images (shape, size and values checked, then its recorded hash) and labels.
    private static func load(_ name: String, from file: HDF5File, path: String, grey: Bool) throws -> Split {
        let ds = try file.dataset(name + "/images")
        let shape = try ds.dimensions()
        guard shape.count == 2, shape[1] == ImageHalves.pixels else {
            throw DataError(file: path, "/\(name)/images has shape \(shape), expected (N, 784)")
        }
        let declared = shape[0]
        guard declared <= Self.maxImages,
            UInt64(declared) * UInt64(ImageHalves.pixels) < ProcessInfo.processInfo.physicalMemory / 2
        else {
            throw DataError(
                file: path,
                "/\(name)/images declares \(declared) images; at most \(Self.maxImages) are read "
                    + "(and no more than half the memory)")
        }
        let images: [UInt8] = try ds.read()
        guard !images.isEmpty else { throw DataError(file: path, "/\(name)/images is empty") }
        if !grey, let bad = images.first(where: { $0 > 1 }) {
            throw DataError(file: path, "/\(name)/images holds the value \(bad); expected 0/1")
        }
        try verify(images, split: name, in: file, path: path)
        let labels = file.contains(name + "/labels") ? try loadLabels(name, count: declared, from: file, path: path) : nil
        return Split(images: images, labels: labels, grey: grey)
    }

    /// A split's labels: one digit 0–9 per image.
    private static func loadLabels(_ name: String, count: Int, from file: HDF5File, path: String) throws -> [UInt8] {
        let ds = try file.dataset(name + "/labels")
        guard ds.shape == [count] else {
            throw DataError(file: path, "/\(name)/labels has shape \(ds.shape) for \(count) images, expected (\(count),)")
        }
        let labels: [UInt8] = try ds.read()
        if let bad = labels.first(where: { $0 > 9 }) {
            throw DataError(file: path, "/\(name)/labels holds the value \(bad); expected the digits 0–9")
        }
        return labels
    }

    /// The images must hash to the sha256 `sbnlab data` recorded for the split.
    private static func verify(_ images: [UInt8], split name: String, in file: HDF5File, path: String) throws {
        let group = try file.group(name)
        guard group.hasAttribute("sha256") else {
            throw DataError(
                file: path,
                "/\(name) has no recorded sha256 (prepared by an older sbnlab); prepare it again: sbnlab data --output \(path)"
            )
        }
        let recorded: String
        do { recorded = try group.stringAttribute("sha256") } catch let error as HDF5Error {
            throw DataError(file: path, "/\(name): \(error.operation); prepare it again: sbnlab data --output \(path)")
        }
        guard SHA256.hex(images) == recorded else {
            throw DataError(
                file: path,
                "/\(name)/images does not match the sha256 `sbnlab data` recorded (altered?); "
                    + "prepare it again: sbnlab data --output \(path)")
        }
    }
}
