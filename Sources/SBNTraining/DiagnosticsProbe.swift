import SBNConfig
import SBNData
import SBNDiagnostics
import SBNModel

/// The `diagnostics:` section at work: after every k-th step, `GradientStatistics` of the chosen
/// estimators on a fixed batch of validation images with the current parameters, against the
/// mean of many estimates of an unbiased reference. Its random numbers come from a seed of its
/// own (the run's seed and the step), so training draws the same numbers with or without it.
struct DiagnosticsProbe {
    let every: Int
    let subjects: [GradientStatistics.Subject]
    let reference: GradientStatistics.Subject
    let settings: ExperimentConfig.Diagnostics
    let batch: Batch
    let samples: Int

    init?(_ config: ExperimentConfig, valid: BinarizedMNIST.Split) throws {
        guard let every = config.diagnostics.every else { return nil }
        self.every = every
        settings = config.diagnostics
        subjects =
            settings.estimators.isEmpty
            ? [GradientStatistics.Subject(label: config.estimator, name: config.estimator, options: config.estimatorOptions)]
            : try settings.estimators.map { spec in
                let v = try EstimatorVariant(spec, file: "diagnostics.estimators", for: config)
                return GradientStatistics.Subject(label: v.label, name: v.name, options: v.options)
            }
        let unbiased = try EstimatorVariant(
            settings.referenceName(for: config.layers), file: "diagnostics.reference", for: config)
        reference = GradientStatistics.Subject(label: unbiased.label, name: unbiased.name, options: unbiased.options)
        samples = config.samples.train
        let split = valid.prefix(settings.images)
        // The task's own batch (halves for the SBN, whole images for the VAE and m2), grey images
        // in the fixed binarisation validation reads.
        let task = config.family.task
        batch = Batch(
            capacity: split.count, inputSize: config.layers.input, outputSize: config.layers.output,
            targetIsInput: task.targetIsInput)
        split.images.withUnsafeBufferPointer {
            task.fill(
                batch, from: $0, indices: 0..<split.count,
                binarize: SemiSupervisedRun.evaluationBinarization(split, .validation))
        }
    }

    func due(afterStep step: Int) -> Bool { step % every == 0 }

    func measure(_ model: StochasticNetwork, step: Int, epoch: Int, temperature: Float, seed: UInt64) throws
        -> RunRecord.DiagnosticsRow
    {
        let stats = try GradientStatistics.measure(
            subjects: subjects, model: model, batch: batch, samples: samples, estimates: settings.estimates,
            temperature: temperature, seed: seed &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15,
            reference: .estimated(reference, estimates: settings.referenceEstimates), timing: false)
        return RunRecord.DiagnosticsRow(
            step: Int64(step), epoch: Int64(epoch), referenceNorm: stats.referenceNorm,
            referenceRelativeError: stats.referenceRelativeError, rows: stats.rows)
    }
}
