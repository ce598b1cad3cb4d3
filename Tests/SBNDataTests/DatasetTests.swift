import Foundation
import SBNData
import SBNStorage
import SBNTensor
import SBNTestSupport
import Testing

/// Tests on the genuine files in ../shared/data.
@Suite struct DatasetTests {
    var binarized: String { TestPaths.sharedData + "/binarized_mnist" }
    var mnist: String { TestPaths.sharedData + "/mnist" }

    @Test func binarizedDatasetHasTheRightShapesAndOnesFraction() throws {
        let data = try BinarizedMNIST(path: TestPaths.preparedDataset)
        #expect(data.train.count == 50000 && data.valid.count == 10000 && data.test.count == 10000)
        let ones = Double(data.train.images.reduce(0) { $0 + Int($1) }) / Double(data.train.images.count)
        #expect(abs(ones - 0.13056) < 5e-6, "train ones fraction \(ones)")
        let f = try HDF5File.open(TestPaths.preparedDataset)
        #expect(try f.dataset("train/images").shape == [50000, 784])
        #expect(try f.dataset("train/images").chunks != nil)
        #expect(try f.stringAttribute("binarization") == "larochelle-fixed")
        #expect(try f.stringAttribute("sha256:binarized_mnist_train.amat.gz") == Checksums.binarizedMNIST["train"]!.gzipSHA256)
        #expect(try f.stringAttribute("sbnlab_version") == Provenance.version)
    }

    /// The HDF5 content equals the source text bit for bit (parsed here independently, by
    /// splitting lines on whitespace).
    @Test(arguments: ["train", "valid", "test"])
    func hdf5EqualsTheSourceBitForBit(split: String) throws {
        let gz = try SourceFiles.readFile(binarized + "/binarized_mnist_\(split).amat.gz")
        let text = String(decoding: try Gzip.decompress(gz, file: split), as: UTF8.self)
        var expected = [UInt8]()
        for line in text.split(separator: "\n") {
            let values = line.split(separator: " ")
            #expect(values.count == 784)
            expected.append(contentsOf: values.map { $0 == "1" ? 1 : 0 })
        }
        let stored: [UInt8] = try HDF5File.open(TestPaths.preparedDataset).dataset("\(split)/images").read()
        #expect(stored == expected)
    }

    @Test func idxLabelHistogramsMatchProvenance() throws {
        func histogram(_ file: String) throws -> [Int] {
            let labels = try IDXParser.labels(
                try Gzip.decompress(try SourceFiles.readFile(mnist + "/" + file), file: file), file: file)
            var h = [Int](repeating: 0, count: 10)
            for l in labels { h[Int(l)] += 1 }
            return h
        }
        #expect(try histogram("train-labels-idx1-ubyte.gz") == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
        #expect(try histogram("t10k-labels-idx1-ubyte.gz") == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    }

    @Test func mnistSourceBuildsAFixedSplitWithLabels() throws {
        let out = TestPaths.temporaryDirectory() + "/mnist.h5"
        try DatasetBuilder(source: .mnist(.threshold, seed: 0), dataRoot: TestPaths.sharedData).build(output: out)
        let f = try HDF5File.open(out)
        #expect(try f.dataset("train/images").shape == [50000, 784])
        #expect(try f.dataset("valid/images").shape == [10000, 784])
        #expect(try f.dataset("test/labels").shape == [10000])
        let labels: [UInt8] = try f.dataset("valid/labels").read()
        #expect(labels.allSatisfy { $0 < 10 })
        #expect(try f.stringAttribute("binarization") == "threshold")
        let images: [UInt8] = try f.dataset("test/images").readRows(0..<100)
        #expect(images.allSatisfy { $0 <= 1 })
    }

    @Test func sampledBinarizationIsSeeded() throws {
        let dir = TestPaths.temporaryDirectory()
        for name in ["a", "b"] {
            try DatasetBuilder(source: .mnist(.sample, seed: 5), dataRoot: TestPaths.sharedData).build(
                output: "\(dir)/\(name).h5")
        }
        let a: [UInt8] = try HDF5File.open("\(dir)/a.h5").dataset("test/images").readRows(0..<50)
        let b: [UInt8] = try HDF5File.open("\(dir)/b.h5").dataset("test/images").readRows(0..<50)
        #expect(a == b)
        #expect(try HDF5File.open("\(dir)/a.h5").attribute("binarization_seed", as: Int64.self) == 5)
    }

    /// An image whose pixels hold their own row number: the top half must be rows 0–13 and the
    /// bottom half rows 14–27, each in reading order.
    @Test func halvesSplitAtRow14() {
        let image = (0..<(28 * 28)).map { UInt8($0 / 28) }
        let top = Matrix(rows: 1, cols: ImageHalves.top.count), bottom = Matrix(rows: 1, cols: ImageHalves.bottom.count)
        image.withUnsafeBufferPointer { ImageHalves.fill(top: top, bottom: bottom, from: $0, indices: [0]) }
        #expect(top.buffer.map { Int($0) } == (0..<(14 * 28)).map { $0 / 28 })
        #expect(bottom.buffer.map { Int($0) } == (0..<(14 * 28)).map { 14 + $0 / 28 })
    }
}
