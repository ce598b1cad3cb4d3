import ArgumentParser
import SBNLab

/// `sbnlab gradstats`: bias, variance and cost of every estimator on a tiny SBN with an exact
/// gradient by enumeration, or on a trained checkpoint against a high-sample estimate of an
/// unbiased estimator (whose standard error is reported).
struct GradStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradstats",
        abstract:
            "Bias, variance and cost of each estimator against the exact gradient of a tiny SBN, or a checkpoint's reference gradient (Markdown, HDF5)."
    )

    enum Net: String, ExpressibleByArgument { case bernoulli, categorical }

    @Option(help: "The tiny SBN: bernoulli (6-3-3-6) or categorical (6-(2×3)-(2×3)-6).")
    var net: Net = .bernoulli

    @Option(help: "m of the objective: 1, or 2 (the multi-sample estimators).")
    var samples = 1

    @Option(help: "Estimates per estimator.")
    var estimates = 20_000

    @Option(help: "Temperature τ for the relaxed and annealed estimators.")
    var temperature: Float = 1

    @Option(help: "Estimators, comma-separated (default: every registered one that applies).")
    var estimators: String?

    @Option(
        help: ArgumentHelp(
            "Also measure an estimator with options, as a row of its own (repeatable), e.g. 'muprop{variance_normalization: false}'.",
            valueName: "name{options}"))
    var variant: [String] = []

    @Option(help: "Seed of the tiny problem and of the estimates.")
    var seed: UInt64 = 31

    @Option(
        help: "A run's results file: measure on its best parameters and a batch of its validation images instead of the tiny SBN."
    )
    var checkpoint: String?

    @Option(help: "With --checkpoint: validation images in the batch (the first ones).")
    var images = 100

    @Option(
        help:
            "With --checkpoint: the unbiased estimator whose mean is the reference, name or name{options} (default: disarm for Bernoulli layers, muprop{variance_normalization: false} otherwise)."
    )
    var reference: String?

    @Option(help: "With --checkpoint: estimates averaged into the reference.")
    var referenceEstimates = 20_000

    @Option(help: "Also write the table to this HDF5 file.")
    var out: String?

    static func subject(_ spec: String) throws -> GradientStatistics.Subject {
        guard spec.contains("{"), spec.hasSuffix("}") else {
            throw ValidationError("--variant: expected name{options}, e.g. 'muprop{variance_normalization: false}', got \(spec)")
        }
        let variant = try EstimatorVariant(spec, file: "--variant \(spec)")
        return GradientStatistics.Subject(label: variant.label, name: variant.name, options: variant.options)
    }

    /// The run's own estimator once more, labelled "<name> (trained state)", with the baselines and
    /// moving moments its checkpoint holds, when it is among the measured ones and has state: the
    /// other rows start from a new run's state (VN's σ from the first batch, untrained baselines).
    static func trainedState(
        of record: RunRecord, at path: String, model: StochasticNetwork, among subjects: [GradientStatistics.Subject]
    ) throws -> [GradientStatistics.Subject] {
        let name = record.config.estimator
        guard subjects.contains(where: { $0.name == name }), let type = EstimatorRegistry.registry.lookup(name) else { return [] }
        let probe = try type.make(
            model: NetworkWorkspace(model: model, capacityImages: 1, samples: record.config.samples.train),
            options: record.config.estimatorOptions)
        var empty = true
        probe.state.visit { _, s in empty = empty && s.tensors.scalarCount == 0 && s.integers.isEmpty && s.reals.isEmpty }
        guard !empty else { return [] }
        return [
            GradientStatistics.Subject(label: "\(name) (trained state)", name: name, options: record.config.estimatorOptions) {
                try ResultsFile.readEstimatorState(path, into: $0)
            }
        ]
    }

    func run() throws {
        try reportingErrors {
            guard samples == 1 || samples == 2 else { throw ValidationError("--samples: expected 1 or 2, got \(samples)") }
            guard estimates >= 2 else { throw ValidationError("--estimates: expected a whole number ≥ 2, got \(estimates)") }
            guard temperature > 0 else { throw ValidationError("--temperature: expected a number > 0, got \(temperature)") }
            // One thread: the estimates are small gemms, where OpenBLAS threads only contend
            // (timings measured 3× slower with two on a busy machine).
            BLAS.threads = 1
            let names = estimators?.split(separator: ",").map { String($0) } ?? EstimatorRegistry.registry.names
            let subjects = names.map { GradientStatistics.Subject(label: $0, name: $0) } + (try variant.map(Self.subject))
            let stats: GradientStatistics
            if let checkpoint {
                guard images >= 1, referenceEstimates >= 2 else {
                    throw ValidationError("--images and --reference-estimates: expected ≥ 1 and ≥ 2")
                }
                let (record, model) = try ResultsFile.loadBestModel(checkpoint)
                let valid = try BinarizedMNIST(path: record.config.data.path).valid.prefix(images)
                // The run's own task: image halves (the SBN), whole images (the VAE, M2), binarised
                // as its validation was.
                let task = record.config.family.task
                let batch = Batch(
                    capacity: valid.count, inputSize: task.inputSize, outputSize: task.outputSize,
                    targetIsInput: task.targetIsInput)
                valid.images.withUnsafeBufferPointer {
                    task.fill(
                        batch, from: $0, indices: 0..<valid.count,
                        binarize: SemiSupervisedRun.evaluationBinarization(valid, .validation))
                }
                func subject(_ spec: String) throws -> GradientStatistics.Subject {
                    let variant = try EstimatorVariant(spec, file: "--reference \(spec)", for: record.config)
                    return GradientStatistics.Subject(label: variant.label, name: variant.name, options: variant.options)
                }
                let fallback = ExperimentConfig.Diagnostics.defaultReference(for: model.architecture)
                let unbiased = try subject(reference ?? fallback)
                // reinforce-loo at m > 1 estimates the single-sample objective: its reference is the default one at m = 1.
                let single = GradientStatistics.Reference.estimated(try subject(fallback), estimates: referenceEstimates)
                stats = try GradientStatistics.measure(
                    subjects: subjects + (try Self.trainedState(of: record, at: checkpoint, model: model, among: subjects)),
                    model: model,
                    batch: batch, samples: samples,
                    estimates: estimates, temperature: temperature, seed: seed &+ 1,
                    reference: .estimated(unbiased, estimates: referenceEstimates),
                    singleSampleReference: single)
            } else {
                let architecture = (net == .bernoulli ? TinyNet.bernoulli : TinyNet.categorical).architecture
                let (model, batch) = tinyProblem(architecture, images: 4, seed: seed)
                stats = try GradientStatistics.measure(
                    subjects: subjects, model: model, batch: batch, samples: samples,
                    estimates: estimates, temperature: temperature, seed: seed &+ 1)
            }
            print(stats.markdown())
            if let out {
                try stats.write(to: out)
                print("\nwrote \(out)")
            }
        }
    }
}
