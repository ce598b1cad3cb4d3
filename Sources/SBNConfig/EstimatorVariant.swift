import SBNEstimators
import SBNOptions

/// An estimator with options, written `name` or `name{yaml options}`, e.g.
/// `muprop{variance_normalization: false}`: how `sbnlab gradstats --variant` and the
/// `diagnostics.estimators` of an experiment file name what they measure. The options go through
/// the experiment-file loader, so they are checked as `estimator_options` are.
public struct EstimatorVariant: Sendable {
    /// The spec without spaces, as a row label.
    public let label: String
    public let name: String
    public let options: AnyOptions

    public init(_ spec: String, file: String) throws {
        let (name, options) = spec.firstIndex(of: "{").map { (String(spec[..<$0]), String(spec[$0...])) } ?? (spec, "{}")
        // Only the options are checked here (the layers and m are the caller's): m is the
        // estimator's smallest, so that e.g. vimco resolves.
        let m = EstimatorRegistry.registry.lookup(name)?.minTrainingSamples ?? 1
        let tree = try ConfigNode.parse(
            "name: variant\nestimator: \(name)\nestimator_options: \(options)\nsamples: {train: \(m)}\n",
            file: file)
        let config = try ConfigLoader.resolve(tree, file: file)
        self.label = spec.filter { $0 != " " }
        self.name = name
        self.options = config.estimatorOptions
    }
}
