import SBNDistributions
import SBNOptions

/// What a model family is trained on: what a batch holds, its sizes, and what is reported.
public struct Task: Sendable, Equatable {
    /// "image-halves", "full-image".
    public let name: String
    public let inputSize: Int
    public let outputSize: Int
    /// Whether the target is the input itself (an autoencoder).
    public let targetIsInput: Bool
    /// What validation selects on and the results call `nll`: "nll" (−log p(target | input)) or
    /// "neg_elbo" (−ELBO with discrete samples).
    public let selectionMetric: String
    /// The metric the paper's table reports.
    public let paperMetric: String

    /// Jang et al. 2017 §4.1: the bottom half of a 28 × 28 digit from its top half.
    public static let imageHalves = Task(
        name: "image-halves", inputSize: 392, outputSize: 392, targetIsInput: false,
        selectionMetric: "nll", paperMetric: "nll")
    /// §4.2: the whole digit, through a latent code.
    public static let fullImage = Task(
        name: "full-image", inputSize: 784, outputSize: 784, targetIsInput: true,
        selectionMetric: "neg_elbo", paperMetric: "neg_elbo")

    /// §4.3: the whole digit through a class and a Gaussian code, a few images labelled; selected
    /// on validation classification error.
    public static let semiSupervised = Task(
        name: "semi-supervised", inputSize: 784, outputSize: 784, targetIsInput: true,
        selectionMetric: "error", paperMetric: "accuracy")

    /// The loss of predicting every pixel with probability ½: output · ln 2 (the divergence
    /// guard's ceiling).
    public var coinFlipNLL: Double { Double(outputSize) * 0.6931471805599453 }
}

/// A family of models every estimator trains through `LatentModel`: its options (under `model:`
/// in experiment files, chosen by `model.family`), the task it is trained on, the checks its
/// layers must pass, and how it builds its network. A new family is one type conforming to this
/// protocol plus one line in `ModelFamilies.registry`.
public protocol ModelFamily: Component {
    static var task: Task { get }
    /// The first problem with these layers, options and training m, as (key path, message).
    static func problem(layers: Architecture, options: Options, trainingSamples: Int) -> (path: String, message: String)?
    /// The full architecture (the maps' hidden widths and activation) and prior term.
    static func architecture(layers: Architecture, options: Options) -> (Architecture, LatentPrior?)
}

extension ModelFamily {
    static func typed(_ options: AnyOptions) -> Options {
        guard let typed = options.as(Options.self) else { preconditionFailure("\(name): options of another family") }
        return typed
    }

    public static func problem(layers: Architecture, options: AnyOptions, trainingSamples: Int) -> (
        path: String, message: String
    )? {
        problem(layers: layers, options: typed(options), trainingSamples: trainingSamples)
    }

    /// The full architecture (maps' hidden widths) for options decoded as `AnyOptions`.
    public static func fullArchitecture(layers: Architecture, options: AnyOptions) -> Architecture {
        architecture(layers: layers, options: typed(options)).0
    }

    /// A network of this family drawn from `rng`.
    public static func network(layers: Architecture, options: AnyOptions, rng: inout Xoshiro256) -> StochasticNetwork {
        let (architecture, prior) = architecture(layers: layers, options: typed(options))
        return StochasticNetwork(architecture: architecture, prior: prior, reconstructsInput: task.targetIsInput, rng: &rng)
    }

    /// The task's input and output sizes, as the first and last entries of `layers`.
    static func sizeProblem(_ layers: Architecture, _ what: String) -> (path: String, message: String)? {
        guard layers.input != task.inputSize || layers.output != task.outputSize else { return nil }
        return (
            "layers",
            "expected input size \(task.inputSize) and output size \(task.outputSize) (\(what)), "
                + "got \(layers.input) and \(layers.output)"
        )
    }
}

/// `sbn`: the stochastic binary network of Jang et al. 2017 §4.1 (Raiko et al. 2014; Gu et al.
/// 2016): linear maps between any number of stochastic layers, top half in, bottom half out, no
/// prior term.
public enum SBNFamily: ModelFamily {
    public static let name = "sbn"
    public static let summary = "stochastic binary network, top half → bottom half of the digit (Jang et al. 2017 §4.1)"
    public static let task = Task.imageHalves

    public static func problem(layers: Architecture, options: NoOptions, trainingSamples: Int) -> (path: String, message: String)?
    {
        sizeProblem(layers, "the two image halves")
    }

    public static func architecture(layers: Architecture, options: NoOptions) -> (Architecture, LatentPrior?) { (layers, nil) }
}

/// The model families experiment files may name under `model.family`.
public enum ModelFamilies {
    public static let registry = Registry<any ModelFamily.Type>(
        kind: "model family",
        [
            SBNFamily.self,
            VAEFamily.self,
            SemiSupervisedFamily.self,
        ]
    ) { $0 }
}
