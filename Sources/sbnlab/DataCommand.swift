import ArgumentParser
import SBNLab

/// `sbnlab data`: verify the genuine MNIST files and write `data/binarized_mnist.h5`.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Verify the source files and convert them to HDF5.")

    @Option(help: "binarized-mnist (Larochelle's fixed binarization, the paper's) or mnist (original IDX).")
    var source: String = "binarized-mnist"

    @Option(help: "For --source mnist: threshold, sample, or grey (kept 0–255, binarised afresh by the m2 trainer).")
    var binarize: String = "threshold"

    @Option(help: "Seed for --binarize sample.")
    var seed: UInt64 = 0

    @Option(help: "Folder holding binarized_mnist/ and mnist/ (default: $SBNLAB_DATA_ROOT or ../shared/data).")
    var dataRoot: String?

    @Option(help: "Output file.")
    var output: String = BinarizedMNIST.defaultPath

    @Flag(help: "Download missing files from the public URLs (verified before use).")
    var download = false

    func run() throws {
        let src: DatasetBuilder.Source
        switch source {
        case "binarized-mnist": src = .binarizedMNIST
        case "mnist":
            guard let method = DatasetBuilder.Binarization(rawValue: binarize) else {
                throw ValidationError("--binarize: expected threshold, sample or grey, got '\(binarize)'")
            }
            src = .mnist(method, seed: seed)
        default:
            throw ValidationError("--source: expected binarized-mnist or mnist, got '\(source)'")
        }
        let builder = DatasetBuilder(source: src, dataRoot: dataRoot ?? SourceFiles.defaultRoot(), download: download)
        try reportingErrors { try builder.build(output: output) }
        print("wrote \(output)")
    }
}
