import SBNConfig
import SBNData
import SBNDistributions
import SBNModel
import SBNTensor

/// What an m2 run (Kingma et al. 2014's M2; Jang et al. 2017 §4.3) adds to training: the
/// training images split into a balanced labelled set and the unlabelled rest, one labelled batch
/// beside every unlabelled one (`LabelledTerm`), grey images binarised afresh each time they are
/// read, and the classifier's accuracy.
///
/// Nothing here holds state a checkpoint must save: the labelled set is a function of
/// `model.label_seed`, the labelled batch of step t is a function of (seed, t), and the
/// binarisation of every image a function of its key (`DynamicBinarization`).
public final class SemiSupervisedRun {
    let options: SemiSupervisedFamily.Options
    let labelled: BinarizedMNIST.Split
    let seed: UInt64
    let batch: Batch
    let term: LabelledTerm
    let labels: UnsafeMutableBufferPointer<Int32>
    /// The labelled images' order in the current pass over them, and that pass's number.
    private var order: [Int]
    private var pass = -1
    var batchesPerPass: Int { options.labelled / options.labelledBatch }

    /// The keys of the one fixed binarisation of the grey validation and test images.
    static let evaluationKeys: [RandomStream: UInt64] = [.validation: 0x5EED_7A11, .evaluation: 0x5EED_7E57]
    /// Labelled images are keyed apart from the unlabelled ones.
    static let labelledKey: UInt64 = 0x1ABE_11ED

    static func options(_ config: ExperimentConfig) -> SemiSupervisedFamily.Options? {
        config.model.options.as(SemiSupervisedFamily.Options.self)
    }

    /// The labelled set — `labelled / 10` images of each digit, the first of each class in an
    /// order drawn from `label_seed` — and the unlabelled rest of `train`, in index order.
    static func divide(_ train: BinarizedMNIST.Split, options: SemiSupervisedFamily.Options, path: String) throws -> (
        labelled: BinarizedMNIST.Split, unlabelled: BinarizedMNIST.Split
    ) {
        guard let labels = train.labels else {
            throw TrainingError(
                description: "\(path): /train/labels is missing; model.family m2 needs labelled images "
                    + "(sbnlab data --source mnist --binarize grey --output data/mnist_grey.h5)")
        }
        let classes = SemiSupervisedFamily.dataClasses, perClass = options.labelled / classes
        var order = Array(0..<train.count)
        var rng = Xoshiro256(seed: options.labelSeed, purpose: .labelled)
        Trainer.shuffle(&order, using: &rng)
        var taken = [Int](repeating: 0, count: classes), chosen: [Int] = []
        for i in order where taken[Int(labels[i])] < perClass {
            chosen.append(i)
            taken[Int(labels[i])] += 1
        }
        if let short = taken.firstIndex(where: { $0 < perClass }) {
            throw TrainingError(
                description: "\(path): /train holds \(taken[short]) images of digit \(short); model.labelled = "
                    + "\(options.labelled) needs \(perClass) of each")
        }
        guard chosen.count < train.count else {
            throw TrainingError(description: "\(path): model.labelled = \(options.labelled) leaves no unlabelled training images")
        }
        chosen.sort()
        var isLabelled = [Bool](repeating: false, count: train.count)
        for i in chosen { isLabelled[i] = true }
        return (subset(train, chosen), subset(train, (0..<train.count).filter { !isLabelled[$0] }))
    }

    static func subset(_ split: BinarizedMNIST.Split, _ indices: [Int]) -> BinarizedMNIST.Split {
        let pixels = ImageHalves.pixels
        var images = [UInt8](repeating: 0, count: indices.count * pixels)
        for (r, i) in indices.enumerated() {
            images[(r * pixels)..<((r + 1) * pixels)] = split.images[(i * pixels)..<((i + 1) * pixels)]
        }
        return BinarizedMNIST.Split(images: images, labels: split.labels.map { l in indices.map { l[$0] } }, grey: split.grey)
    }

    init(
        config: ExperimentConfig, labelled: BinarizedMNIST.Split, unlabelledCount: Int, model: StochasticNetwork,
        runner: PartRunner
    ) {
        let options = Self.options(config)!
        self.options = options
        self.labelled = labelled
        seed = config.seed
        batch = Batch(capacity: options.labelledBatch, inputSize: model.sizes[0], outputSize: model.sizes[0], targetIsInput: true)
        let workspace = NetworkWorkspace(model: model, capacityImages: options.labelledBatch, runner: runner)
        term = LabelledTerm(
            model: workspace, alpha: Float(Self.classificationWeight(options, unlabelled: unlabelledCount)),
            elboWeight: options.labelledWeight == .batch ? 1 : Float(options.labelled) / Float(unlabelledCount))
        labels = .allocate(capacity: options.labelledBatch)
        order = Array(0..<labelled.count)
    }

    deinit { labels.deallocate() }

    /// Kingma et al. 2014 eq. 9, J + α_K Σ_labelled −log q(y | x) with α_K = α·N (their α = 0.1·N;
    /// N = N_L + N_U the training images), divided by N_U to sit beside the unlabelled images' mean
    /// −ELBO: the weight of the labelled batch's mean cross-entropy is α·N·N_L/N_U (≈ 10 at the
    /// paper's 100 labels and α = 0.1). The labelled −ELBO's weight is N_L/N_U.
    static func classificationWeight(_ options: SemiSupervisedFamily.Options, unlabelled: Int) -> Double {
        let labelled = Double(options.labelled), total = labelled + Double(unlabelled)
        return options.alpha * total * labelled / Double(unlabelled)
    }

    /// Step `step`'s labelled batch (batch step mod P of pass step / P over the labelled set, in
    /// that pass's order) and its term's gradient into `grads`; returns the term.
    func accumulate(step: Int, grads: ParameterSet, task: Task, using rng: inout Xoshiro256) -> Double {
        let n = options.labelledBatch, p = step / batchesPerPass, b = step % batchesPerPass
        if p != pass {
            for i in order.indices { order[i] = i }
            var shuffle = Xoshiro256(seed: seed, purpose: .labelledOrder, chunk: p)
            Trainer.shuffle(&order, using: &shuffle)
            pass = p
        }
        let indices = order[(b * n)..<((b + 1) * n)]
        batch.setRows(n)
        labelled.images.withUnsafeBufferPointer { images in
            task.fill(
                batch, from: images, indices: indices, rows: 0..<n,
                binarize: labelled.grey ? (seed ^ Self.labelledKey, step) : nil)
        }
        for (r, i) in indices.enumerated() { labels[r] = Int32(labelled.labels![i]) }
        return term.accumulate(batch, labels: UnsafeBufferPointer(labels), grads: grads, using: &rng)
    }

    /// The classifier's confusion counts on `split`: argmax of q(y | x) against the label (a
    /// class beyond the data's 10 counts as wrong); its accuracy is the paper's metric.
    static func confusion(_ model: StochasticNetwork, split: BinarizedMNIST.Split, purpose: RandomStream, task: Task)
        -> ClassConfusion
    {
        let chunk = 1000, K = model.sizes[1]
        let ws = NetworkWorkspace(model: model, capacityImages: chunk, keepsLocal: false)
        let batch = Batch(capacity: chunk, inputSize: model.sizes[0], outputSize: model.sizes[0], targetIsInput: true)
        var confusion = ClassConfusion(labels: SemiSupervisedFamily.dataClasses, classes: K)
        split.images.withUnsafeBufferPointer { images in
            for start in stride(from: 0, to: split.count, by: chunk) {
                let range = start..<min(split.count, start + chunk)
                task.fill(batch, from: images, indices: range, binarize: evaluationBinarization(split, purpose))
                ws.computeFirstLogits(batch)
                for (r, i) in range.enumerated() {
                    let a = ws.logits[1].row(r)
                    var best = 0
                    for k in 1..<K where a[k] > a[best] { best = k }
                    confusion.add(label: Int(split.labels![i]), predicted: best)
                }
            }
        }
        return confusion
    }

    /// The fixed binarisation of a grey evaluation split (nil for binary images).
    public static func evaluationBinarization(_ split: BinarizedMNIST.Split, _ purpose: RandomStream) -> (
        seed: UInt64, epoch: Int
    )? {
        split.grey ? (evaluationKeys[purpose] ?? 0, 0) : nil
    }
}
