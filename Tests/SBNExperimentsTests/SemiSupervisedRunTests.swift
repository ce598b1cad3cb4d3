import Foundation
import SBNData
import SBNStorage
import SBNTestSupport
import SBNTraining
import Testing

/// The grey MNIST with labels that m2 runs read, prepared once per test process from the genuine
/// IDX files (`sbnlab data --source mnist --binarize grey`).
let greyDataset: String = {
    let path = TestPaths.temporaryDirectory(prefix: "grey") + "/mnist_grey.h5"
    try! DatasetBuilder(source: .mnist(.grey, seed: 0), dataRoot: TestPaths.sharedData).build(output: path)
    return path
}()

/// A short m2 run: 1100 training images (100 labelled, 10 of each digit), 200 validation, 300 test.
func smallSemiSupervisedYAML(estimator: String, extra: String = "") -> String {
    """
    name: small-ssl-\(estimator)
    description: test run
    data: {path: \(greyDataset), train_limit: 1100, valid_limit: 200, test_limit: 300}
    model: {family: m2, classifier_hidden: [50], encoder_hidden: [50], decoder_hidden: [50], latent: 8,
            labelled: 100, labelled_batch: 10, alpha: 0.1}
    layers: [784, {categorical: [1, 10]}, 784]
    estimator: \(estimator)
    temperature: {schedule: exponential, tau: 1.0, tau_min: 0.5, rate: 3.0e-5, every: 2000}
    batch_size: 100
    epochs: 2
    samples: {train: 1, valid: 1, test: 5}
    seed: 4
    \(extra)
    """
}

/// M2 runs end to end through the command line (Jang et al. 2017 §4.3): grey images binarised
/// afresh, the labelled term beside each unlabelled batch, accuracy and −ELBO reported; the bad
/// inputs of the family each get their one-line error before anything is written.
@Suite struct SemiSupervisedRunTests {
    let folder = ExperimentFolder()

    func run(_ args: [String]) throws -> CommandResult {
        try runCommand(try #require(TestPaths.sbnlabBinary, "sbnlab binary not built"), args, in: folder.dir)
    }

    /// marginal and st-gs finish, store a test accuracy (a fraction, with its binomial se) and
    /// −ELBO ≥ −log p(x) estimate, and `show` prints the accuracy beside the paper's number.
    /// A CNN classifier trains end to end, and `gradstats` measures estimators on an m2
    /// checkpoint against `marginal` (it once filled the batch as image halves and trapped), with
    /// a cosine per map.
    @Test func convolutionalClassifierAndGradstatsOnItsCheckpoint() throws {
        let path = try folder.write("cnn.yaml", smallSemiSupervisedYAML(estimator: "st-gs"))
        let out = folder.dir + "/cnn"
        let r = try run(["run", path, "--out", out, "--set", "model.classifier_conv=[4, 8]", "--set", "epochs=1"])
        #expect(r.status == 0, "\(r.stderr)")
        let record = try ResultsFile.readRecord(out + "/run.h5")
        #expect((0...1).contains(try #require(record.test?.accuracy)))
        let g = try run([
            "gradstats", "--checkpoint", out + "/run.h5", "--reference", "marginal", "--reference-estimates", "20",
            "--estimates", "20", "--estimators", "st-gs,marginal", "--images", "10",
        ])
        #expect(g.status == 0, "\(g.stderr)")
        #expect(g.stdout.contains("784-conv[4-8]-[50]-categorical(1×10)-gaussian(8)"), "\(g.stdout)")
        #expect(g.stdout.contains("| cos. layer 1 | cos. layer 2 |") && g.stdout.contains("| st-gs |"), "\(g.stdout)")
    }

    @Test(arguments: ["marginal", "st-gs"])
    func runsEndToEndAndReportsAccuracy(estimator: String) throws {
        let path = try folder.write("\(estimator).yaml", smallSemiSupervisedYAML(estimator: estimator))
        let out = folder.dir + "/\(estimator)/run.h5"
        let r = try run(["run", path, "--out", folder.dir + "/\(estimator)", "--threads", "2"])
        #expect(r.status == 0, "\(r.stderr)")
        let record = try ResultsFile.readRecord(out)
        let test = try #require(record.test)
        let accuracy = try #require(test.accuracy), sem = try #require(test.accuracySem)
        #expect(accuracy > 0.2 && accuracy <= 1, "accuracy \(accuracy) (chance is 0.1)")
        #expect(abs(sem - (accuracy * (1 - accuracy) / 300).squareRoot()) < 1e-12)
        #expect(try #require(test.negELBO) >= test.nll - 1e-9, "−ELBO is an upper bound of the importance-weighted −log p(x)")
        #expect(record.valid.allSatisfy { (0...100).contains($0.nll) }, "validation error in %")
        let evaluated = try run(["eval", out])
        #expect(
            evaluated.stdout.contains(String(format: "test accuracy %.2f %% ± %.2f", 100 * accuracy, 100 * sem)),
            "\(evaluated.stdout)")
        let shown = try run(["show", out])
        let paper = estimator == "marginal" ? "92.6" : "93.6"
        #expect(shown.stdout.contains("test accuracy") && shown.stdout.contains("paper \(paper)"), "\(shown.stdout)")
        // The confusion counts cover the 300 test images, their diagonal is the accuracy, and
        // `show` and `eval` print the same per-digit line from the file and from a fresh count.
        let confusion = try #require(test.confusion)
        #expect(confusion.total == 300 && confusion.accuracy == accuracy && (confusion.labels, confusion.classes) == (10, 10))
        #expect(shown.stdout.contains("test " + confusion.summaryLine + "\n"), "\(shown.stdout)")
        #expect(evaluated.stdout.contains("test " + confusion.summaryLine + "\n"), "\(evaluated.stdout)")
        let table = try run(["eval", out, "--confusion", "--samples", "1"])
        #expect(table.stdout.hasSuffix("\n\n" + confusion.markdownTable + "\n"), "\(table.stdout)")
    }

    /// The counts behind the accuracy: a class beyond the data's digits (K > 10) is a wrong
    /// answer, a digit's accuracy is its row's diagonal share, the largest confusions come first,
    /// and counts of the wrong size or sign are not a table.
    @Test func confusionCountsGiveTheAccuracy() {
        var c = ClassConfusion(labels: 10, classes: 12)
        for _ in 0..<8 { c.add(label: 4, predicted: 4) }
        for _ in 0..<2 { c.add(label: 4, predicted: 9) }
        for _ in 0..<5 { c.add(label: 9, predicted: 9) }
        for _ in 0..<3 { c.add(label: 9, predicted: 11) }
        c.add(label: 9, predicted: 4)
        #expect(c.total == 19 && c.correct == 13)
        #expect(c.accuracy == 13.0 / 19 && abs(c.standardError - (13.0 / 19 * 6 / 19 / 19).squareRoot()) < 1e-15)
        #expect(c.perLabelAccuracy[4] == 0.8 && c.perLabelAccuracy[9] == 5.0 / 9 && c.perLabelAccuracy[0].isNaN)
        #expect(c.largestConfusions(5).map { "\($0.label)→\($0.predicted) \($0.images)" } == ["9→11 3", "4→9 2", "9→4 1"])
        #expect(c.markdownTable.split(separator: "\n").count == 12)
        #expect(c.markdownTable.hasSuffix("\n| 9 | 0 | 0 | 0 | 0 | 1 | 0 | 0 | 0 | 0 | 5 | 0 | 3 |"), "\(c.markdownTable)")
        #expect(c.summaryLine.hasSuffix("4 80.0, 5 nan, 6 nan, 7 nan, 8 nan, 9 55.6; most confused: 9→11 3, 4→9 2, 9→4 1"))
        #expect(ClassConfusion(labels: 10, classes: 12, counts: c.counts) == c)
        #expect(ClassConfusion(labels: 10, classes: 12, counts: Array(c.counts.dropLast())) == nil)
        #expect(ClassConfusion(labels: 10, classes: 12, counts: c.counts.map { -$0 }) == nil)
    }

    /// A hand-edited confusion table (one image added, or a row moved so the diagonal no longer
    /// gives the recorded accuracy, or the wrong shape) is one line naming the dataset.
    @Test(.enabled(if: hasPythonWithH5py, "python3 with h5py not available"))
    func editedConfusionCountsAreRefused() throws {
        let path = try folder.write("c.yaml", smallSemiSupervisedYAML(estimator: "st-gs"))
        let trained = try run(["run", path, "--out", folder.dir + "/c", "--set", "epochs=1"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let file = folder.dir + "/c/run.h5"
        let edits = [
            "c = f['eval/test/confusion']; a = c[:]; a[0, 0] += 1; c[...] = a",
            "c = f['eval/test/confusion']; a = c[:]; i = int(a.diagonal().argmax()); a[i, (i + 1) % 10] += a[i, i]; a[i, i] = 0; c[...] = a",
            "a = f['eval/test/confusion'][:]; del f['eval/test/confusion']; f['eval/test/confusion'] = a[:9]",
            // Counts whose sum overflows a 64-bit integer: refused before they are added.
            "c = f['eval/test/confusion']; a = c[:]; a[0, 0] = 2**62; a[1, 1] = 2**62; a[2, 2] = 2**62; c[...] = a",
        ]
        for (n, edit) in edits.enumerated() {
            let copy = folder.dir + "/c\(n).h5"
            try FileManager.default.copyItem(atPath: file, toPath: copy)
            let script = "import h5py\nf = h5py.File('\(copy)', 'a')\n\(edit)\nf.close()\n"
            #expect(try runCommand("/usr/bin/env", ["python3", "-c", script]).status == 0)
            let r = try run(["show", copy])
            #expect(r.status == 1 && r.stderr.hasPrefix("sbnlab: error: \(copy): eval/test/confusion (shape "), "\(r.stderr)")
            #expect(r.stderr.hasSuffix("(a damaged or hand-edited file)\n") && r.stderr.split(separator: "\n").count == 1)
        }
    }

    /// Nothing of an m2 run needs saving beyond the other families' checkpoint: two epochs in one
    /// session equal one epoch, then a resumed second (labelled batches, binarisation and the
    /// labelled set are functions of the seed and the step).
    @Test func resumedRunIsBitIdentical() throws {
        let path = try folder.write("r.yaml", smallSemiSupervisedYAML(estimator: "st-gs"))
        let straight = folder.dir + "/straight/run.h5", split = folder.dir + "/split/run.h5"
        #expect(try run(["run", path, "--out", folder.dir + "/straight"]).status == 0)
        #expect(try run(["run", path, "--out", folder.dir + "/split", "--stop-after", "1"]).status == 0)
        #expect(try run(["run", path, "--out", folder.dir + "/split", "--resume"]).status == 0)
        let a = try checkpointTensors(straight), b = try checkpointTensors(split)
        #expect(!a.isEmpty && a == b, "checkpoints differ: \(a.keys.filter { a[$0] != b[$0] }.sorted().prefix(5))")
        #expect(try ResultsFile.readRecord(straight).test?.accuracy == ResultsFile.readRecord(split).test?.accuracy)
    }

    @Test func unlabelledDataIsRefusedNamingFileAndKey() throws {
        let path = try folder.write("u.yaml", smallSemiSupervisedYAML(estimator: "gs"))
        let out = folder.dir + "/never"
        let r = try run(["run", path, "--set", "data.path=\(TestPaths.preparedDataset)", "--out", out])
        #expect(r.status == 1)
        #expect(
            r.stderr
                == "sbnlab: error: \(TestPaths.preparedDataset): /train/labels is missing; model.family m2 needs labelled "
                + "images (sbnlab data --source mnist --binarize grey --output data/mnist_grey.h5)\n")
        #expect(!FileManager.default.fileExists(atPath: out))
        // And grey images for a family that does not binarise them.
        let sbn = try folder.write("s.yaml", smallRunYAML(estimator: "gs"))
        let g = try run(["run", sbn, "--set", "data.path=\(greyDataset)", "--out", out])
        #expect(
            g.stderr
                == "sbnlab: error: \(greyDataset): grey images (binarization grey) are binarised for whole-image models (vae, m2) only; "
                + "sbn trains on binary images (make data)\n")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// A VAE trains on grey images binarised afresh each epoch ("dynamic MNIST"). Its test numbers,
    /// its diagnostics and its figure read the one fixed evaluation binarisation, so `eval`
    /// reproduces the test numbers to the bit.
    @Test func aVAETrainsOnDynamicallyBinarisedImages() throws {
        let yaml = try folder.write(
            "dv.yaml",
            smallRunYAML(
                estimator: "gs",
                extra: "model: {family: vae, encoder_hidden: [32], decoder_hidden: [32]}\nlayers: [784, 20, 784]\n"
                    + "diagnostics: {every: 4, estimates: 10, reference_estimates: 20, images: 10}"))
        let trained = try run(["run", yaml, "--set", "data.path=\(greyDataset)", "--out", "dv"])
        #expect(trained.status == 0, "\(trained.stderr)")
        let file = folder.dir + "/dv/run.h5"
        let record = try ResultsFile.readRecord(file), test = try #require(record.test)
        // Below the coin-flip bound 784 ln 2 ≈ 543.4 nats: the decoder saw 0/1 pixels, not grey levels.
        #expect(test.negELBO.map { $0 > 0 && $0 < 543.4 } == true, "\(test.negELBO ?? .nan)")
        #expect(record.diagnostics.map(\.step) == [4, 8, 12, 16])
        let again = try CheckpointEvaluation.evaluate(
            run: file, split: .test, samples: nil, limit: nil, dataPath: nil, threads: 2)
        #expect(again.evaluation.perImage.map(\.bitPattern) == test.perImage.map(\.bitPattern))
        let grey = try BinarizedMNIST(path: greyDataset).test
        let digits = grey.binaryImages([0, 7])
        #expect(digits == grey.binaryImages([0, 7]) && digits.allSatisfy { $0 <= 1 })
        // Over 200 test images (156800 pixels) the share of ones is the mean grey level / 255,
        // within 5 of its standard errors (each pixel's variance is at most 1/4).
        let many = grey.binaryImages(Array(0..<200)), pixels = Double(many.count)
        let ones = Double(many.reduce(0) { $0 + Int($1) }) / pixels
        let level = Double(grey.images[..<many.count].reduce(0) { $0 + Int($1) }) / (255 * pixels)
        #expect(abs(ones - level) < 5 * 0.5 / pixels.squareRoot(), "\(ones) against \(level)")
        // Training reads each image in a new binarisation every epoch (keyed by seed, epoch, index).
        let epochs = [1, 2].map { e in
            (0..<784).map {
                DynamicBinarization.bit(grey.images[$0], key: DynamicBinarization.key(seed: 3, epoch: e, index: 0), pixel: $0)
            }
        }
        #expect(epochs[0] != epochs[1])
        let figure = try run(["figure", "vae", "--run", file, "--out", "dv.png"])
        #expect(figure.status == 0 && FileManager.default.fileExists(atPath: folder.dir + "/dv.png"), "\(figure.stderr)")
    }

    @Test(arguments: [
        ("model.labelled=95", "model.labelled: expected a multiple of the 10 classes (balanced labels) up to 50000, got 95"),
        ("model.labelled_batch=30", "model.labelled_batch: expected a divisor of model.labelled (100), got 30"),
        ("layers=[784, {categorical: [1, 5]}, 784]", "layers: the class variable needs at least the data's 10 classes, got 5"),
        ("model.alpha=-1", "model.alpha: expected a weight from 0 to 1e6, got -1.0"),
    ])
    func badOptionsGetOneLine(set: String, expected: String) throws {
        let path = try folder.write("b.yaml", smallSemiSupervisedYAML(estimator: "gs"))
        let out = folder.dir + "/never"
        let r = try run(["run", path, "--set", set, "--out", out])
        #expect(r.status == 1)
        #expect(r.stderr == "sbnlab: error: \(path): \(expected)\n")
        #expect(!FileManager.default.fileExists(atPath: out))
    }

    /// `marginal` beyond its bound names the cost; on a model of several variables it says what it sums over.
    @Test func marginalRefusesWhatItCannotSum() throws {
        let path = try folder.write("m.yaml", smallSemiSupervisedYAML(estimator: "marginal"))
        let r = try run(["run", path, "--set", "layers=[784, {categorical: [1, 300]}, 784]", "--out", folder.dir + "/never"])
        #expect(
            r.stderr
                == "sbnlab: error: \(path): layers: marginal: K = 300 classes cost 300 passes of the decoder per image "
                + "per step; at most 256 (sample the class with gs or st-gs instead)\n")
        let sbn = try folder.write("s.yaml", smallRunYAML(estimator: "marginal"))
        let s = try run(["run", sbn, "--out", folder.dir + "/never"])
        #expect(s.status == 1 && s.stderr.contains("layers: marginal: sums over one categorical variable"), "\(s.stderr)")
        #expect(!FileManager.default.fileExists(atPath: folder.dir + "/never"))
    }
}
