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

    /// `config`: the run whose network it will measure (its family and layers; default: the
    /// SBN's), for estimators that apply to some layers only (e.g. `marginal`, one categorical
    /// variable).
    public init(_ spec: String, file: String, for config: ExperimentConfig? = nil) throws {
        let (name, options) = spec.firstIndex(of: "{").map { (String(spec[..<$0]), String(spec[$0...])) } ?? (spec, "{}")
        // Only the options (and, when given, the layers) are checked here (m is the caller's): m
        // is the estimator's smallest, so that e.g. vimco resolves.
        let m = EstimatorRegistry.registry.lookup(name)?.minTrainingSamples ?? 1
        let layersLine = config.map { "model: {family: \($0.model.family)}\nlayers: \(Layers.flowList($0.layers))\n" } ?? ""
        let tree = try ConfigNode.parse(
            "name: variant\nestimator: \(name)\nestimator_options: \(options)\nsamples: {train: \(m)}\n" + layersLine,
            file: file)
        let config = try ConfigLoader.resolve(tree, file: file)
        self.label = spec.filter { $0 != " " }
        self.name = name
        self.options = config.estimatorOptions
    }
}
