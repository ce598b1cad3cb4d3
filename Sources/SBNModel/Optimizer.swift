import CKernels
import RealModule
import SBNOptions
import SBNTensor

/// A first-order optimizer over a `ParameterSet`, chosen by name (`OptimizerRegistry`). Its
/// moments and counters are a `ComponentState`, which checkpoints save and restore.
public protocol Optimizer: Component, AnyObject {
    init(parameters: ParameterSet, learningRate: Float, options: Options)
    var learningRate: Float { get set }
    var state: ComponentState { get }
    /// θ ← update(θ, ∂θ), each tensor cut into the runner's parts (the update is elementwise,
    /// so the cut does not change a bit). Consumes the gradients — they are zero afterwards, ready
    /// for the next step to accumulate into — and returns the name of the first gradient tensor
    /// that held a NaN or ±inf (nil when all were finite; the update is then meaningless and the
    /// caller stops). One pass over the gradients instead of three.
    @discardableResult
    func step(_ parameters: ParameterSet, gradients: ParameterSet, runner: PartRunner) -> String?
}

extension Optimizer {
    /// `step` on the calling thread.
    @discardableResult
    public func step(_ parameters: ParameterSet, gradients: ParameterSet) -> String? {
        step(parameters, gradients: gradients, runner: .serial)
    }
}

extension Optimizer {
    /// Builds the optimizer from a configuration's options (decoded for this type by the loader).
    public static func make(parameters: ParameterSet, learningRate: Float, options: AnyOptions) -> any Optimizer {
        guard let typed = options.as(Options.self) else { preconditionFailure("\(name): options of another optimizer") }
        return Self(parameters: parameters, learningRate: learningRate, options: typed)
    }
}

/// SGD with (heavy-ball) momentum: v ← μv + g; θ ← θ − ηv (Jang et al. 2017 §4: μ = 0.9).
public final class SGDMomentum: Optimizer {
    public struct Options: ComponentOptions {
        @UnitInterval public var momentum = 0.9
        public init() {}
    }

    public static let name = "sgd"
    public static let summary = "SGD with heavy-ball momentum (Jang et al. 2017 §4)"
    public var learningRate: Float
    public let momentum: Float
    public let state: ComponentState
    private let velocity: ParameterSet

    public init(parameters: ParameterSet, learningRate: Float, options: Options = Options()) {
        self.learningRate = learningRate
        momentum = Float(options.momentum)
        velocity = parameters.zerosLike(prefix: "velocity/")
        state = ComponentState(tensors: velocity)
    }

    @discardableResult
    public func step(_ parameters: ParameterSet, gradients: ParameterSet, runner: PartRunner) -> String? {
        gradients.partwise(runner: runner) { i, r in
            let o = r.lowerBound
            return sbn_sgd_momentum_update(
                velocity.tensors[i].pointer + o, gradients.tensors[i].pointer + o,
                parameters.tensors[i].pointer + o, r.count, momentum, learningRate) != 0
        }
    }
}

/// Adam (Kingma & Ba 2015, Algorithm 1) with bias correction, written in the "efficient" form
/// of their §2: α_t = α·√(1−β₂ᵗ)/(1−β₁ᵗ) and ε̂ = ε·√(1−β₂ᵗ).
public final class Adam: Optimizer {
    public struct Options: ComponentOptions {
        @UnitInterval public var beta1 = 0.9
        @UnitInterval public var beta2 = 0.999
        @Positive public var epsilon = 1e-8
        public init() {}
    }

    public static let name = "adam"
    public static let summary = "Adam with bias correction (Kingma & Ba 2015)"
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let state: ComponentState
    private let firstMoments: ParameterSet, secondMoments: ParameterSet

    public init(parameters: ParameterSet, learningRate: Float, options: Options = Options()) {
        self.learningRate = learningRate
        beta1 = Float(options.beta1)
        beta2 = Float(options.beta2)
        epsilon = Float(options.epsilon)
        firstMoments = parameters.zerosLike(prefix: "m/")
        secondMoments = parameters.zerosLike(prefix: "v/")
        state = ComponentState(
            tensors: ParameterSet(joining: [("", firstMoments), ("", secondMoments)]), integers: ["t": 0], nonNegative: ["v/"])
    }

    @discardableResult
    public func step(_ parameters: ParameterSet, gradients: ParameterSet, runner: PartRunner) -> String? {
        let t = state.integers["t", default: 0] + 1
        state.integers["t"] = t
        let c1 = 1 - Float.pow(beta1, Float(t)), c2 = 1 - Float.pow(beta2, Float(t))
        let stepSize = learningRate * c2.squareRoot() / c1
        let epsHat = epsilon * c2.squareRoot()
        return gradients.partwise(runner: runner) { i, r in
            let o = r.lowerBound
            return sbn_adam_update(
                firstMoments.tensors[i].pointer + o, secondMoments.tensors[i].pointer + o,
                gradients.tensors[i].pointer + o, parameters.tensors[i].pointer + o, r.count,
                beta1, beta2, stepSize, epsHat) != 0
        }
    }
}

/// Optimizers by the name experiment files use. Adding one: a type above (or in its own file)
/// plus one line here.
public enum OptimizerRegistry {
    public static let registry = Registry<any Optimizer.Type>(kind: "optimizer", [SGDMomentum.self, Adam.self]) { $0 }
}
