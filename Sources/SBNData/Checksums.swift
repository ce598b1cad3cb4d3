/// The published checksums of every input file (../shared/data/PROVENANCE.md). A file is used only
/// after its SHA-256 matches, every time: either the gzip'd file as stored locally or the
/// uncompressed file as served by the original download URL.
public enum Checksums {
    public struct Entry: Sendable {
        public let name: String  // file name as stored locally (gzip'd)
        public let gzipSHA256: String
        public let rawName: String  // uncompressed name, as some mirrors serve it
        public let rawSHA256: String
    }

    public static let binarizedMNIST: [String: Entry] = [
        "train": Entry(
            name: "binarized_mnist_train.amat.gz",
            gzipSHA256: "af247bd6075cf9adc4715459dcd5f13eaa99a2c92d8d81379a05da94770b6c0e",
            rawName: "binarized_mnist_train.amat",
            rawSHA256: "ad693b29f94c14277b095f5238ddefbbdaaae0939789dd2f4f0205278cee3e4d"),
        "valid": Entry(
            name: "binarized_mnist_valid.amat.gz",
            gzipSHA256: "533b71bc0198f4d73c54ae5fe6c96fc08dc3cf1b3fae24c5521dbc0452507e38",
            rawName: "binarized_mnist_valid.amat",
            rawSHA256: "1de3d397c40fe8eeb33dafd4099a1f665ec01e96d9be234aaeeac8a34930e2e2"),
        "test": Entry(
            name: "binarized_mnist_test.amat.gz",
            gzipSHA256: "32a3c54d03504632bf9f131b4a148c7567aa6fc87da017049b044bdc14c2a0f2",
            rawName: "binarized_mnist_test.amat",
            rawSHA256: "e6687bfea3f820c174f33b7865140b2a2dd2930ef786f35d45795fc193b5ab2c"),
    ]

    public static let mnist: [String: Entry] = [
        "train-images": Entry(
            name: "train-images-idx3-ubyte.gz",
            gzipSHA256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            rawName: "train-images-idx3-ubyte",
            rawSHA256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
        "train-labels": Entry(
            name: "train-labels-idx1-ubyte.gz",
            gzipSHA256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            rawName: "train-labels-idx1-ubyte",
            rawSHA256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
        "test-images": Entry(
            name: "t10k-images-idx3-ubyte.gz",
            gzipSHA256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            rawName: "t10k-images-idx3-ubyte",
            rawSHA256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
        "test-labels": Entry(
            name: "t10k-labels-idx1-ubyte.gz",
            gzipSHA256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
            rawName: "t10k-labels-idx1-ubyte",
            rawSHA256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    ]

    /// Throws unless `bytes` hash to `expected`.
    public static func verify(_ bytes: [UInt8], expected: String, file: String) throws {
        let actual = SHA256.hex(bytes)
        guard actual == expected else {
            throw DataError(file: file, "sha256 mismatch: expected \(expected), got \(actual)")
        }
    }
}
