import Foundation
import SBNConfig
import SBNData
import SBNModel

/// A run's best parameters (the ones it tested) evaluated again on any split of its dataset
/// (`sbnlab eval`), reading the run file and writing nothing. The training split's bound beside
/// the test split's measures how much a model overfits; a bound reported on the training images
/// (as REBAR and DisARM report theirs) is then comparable with ours.
public enum CheckpointEvaluation {
    public enum SplitName: String, CaseIterable, Sendable { case train, valid, test }

    public struct Result: Sendable {
        public let record: RunRecord
        public let split: SplitName
        public let evaluation: Evaluation
        /// m2's confusion counts on a labelled split, hence its accuracy (nil otherwise).
        public let confusion: ClassConfusion?
    }

    /// Evaluates the best parameters of `run` on the first `limit` images of `split` (after the
    /// run's own limit of that split), with `samples` samples per image (default: the run's test
    /// samples), the run's seed and the evaluation stream: on the test split with the run's
    /// samples and no limit this is the run's own test evaluation, to the bit.
    public static func evaluate(
        run path: String, split: SplitName, samples: Int?, limit: Int?, dataPath: String?, threads: Int
    ) throws -> Result {
        let (record, model) = try ResultsFile.loadBestModel(path)
        let config = record.config
        let dataset = try BinarizedMNIST(path: dataPath ?? config.data.path)
        let images: BinarizedMNIST.Split
        switch split {
        case .train: images = dataset.train.prefix(config.data.trainLimit).prefix(limit)
        case .valid: images = dataset.valid.prefix(config.data.validLimit).prefix(limit)
        case .test: images = dataset.test.prefix(config.data.testLimit).prefix(limit)
        }
        // A model of another family or size (a run of another dataset) would read past its images.
        // Grey images are binarised for whole-image models only, and m2 needs them (its labels).
        let fits = dataset.train.grey ? config.family.task.targetIsInput : SemiSupervisedRun.options(config) == nil
        guard images.count > 0, fits else {
            throw TrainingError(
                description: "\(dataPath ?? config.data.path): not the kind of dataset \(path) was trained on "
                    + "(\(config.family.name), \(images.count) \(split.rawValue) images)")
        }
        let evaluation = Trainer.evaluate(
            model, config: config, split: images, samples: samples ?? config.samples.test, purpose: .evaluation,
            threads: threads)
        let confusion =
            SemiSupervisedRun.options(config) != nil && images.labels != nil
            ? SemiSupervisedRun.confusion(model, split: images, purpose: .evaluation, task: config.family.task) : nil
        return Result(record: record, split: split, evaluation: evaluation, confusion: confusion)
    }
}
