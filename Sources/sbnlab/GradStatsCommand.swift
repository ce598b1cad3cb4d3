import ArgumentParser
import SBNLab

/// `sbnlab gradstats`: bias, variance and cost of every estimator on a tiny SBN with an exact
/// gradient by enumeration.
struct GradStatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradstats",
        abstract: "Bias, variance and cost of each estimator against the exact gradient of a tiny SBN (Markdown, HDF5).")

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

    @Option(help: "Seed of the tiny problem and of the estimates.")
    var seed: UInt64 = 31

    @Option(help: "Also write the table to this HDF5 file.")
    var out: String?

    func run() throws {
        try reportingErrors {
            guard samples == 1 || samples == 2 else { throw ValidationError("--samples: expected 1 or 2, got \(samples)") }
            guard estimates >= 2 else { throw ValidationError("--estimates: expected a whole number ≥ 2, got \(estimates)") }
            guard temperature > 0 else { throw ValidationError("--temperature: expected a number > 0, got \(temperature)") }
            let architecture = (net == .bernoulli ? TinyNet.bernoulli : TinyNet.categorical).architecture
            let (model, batch) = tinyProblem(architecture, images: 4, seed: seed)
            let names = estimators?.split(separator: ",").map { String($0) } ?? EstimatorRegistry.registry.names
            let stats = try GradientStatistics.measure(estimators: names, model: model, batch: batch, samples: samples,
                                                       estimates: estimates, temperature: temperature, seed: seed &+ 1)
            print(stats.markdown())
            if let out {
                try stats.write(to: out)
                print("\nwrote \(out)")
            }
        }
    }
}
