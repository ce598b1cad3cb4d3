import SBNTensor

/// A first-order optimizer over a `ParameterSet`. Its moments are a `ParameterSet` too, so a
/// checkpoint saves and restores them by name like everything else.
public protocol Optimizer: AnyObject {
    static var name: String { get }
    var learningRate: Float { get set }
    /// Optimizer state to checkpoint (moments, step count).
    var state: ParameterSet { get }
    /// θ ← update(θ, ∂θ).
    func step(_ parameters: ParameterSet, gradients: ParameterSet)
}

/// SGD with (heavy-ball) momentum: v ← μv + g; θ ← θ − ηv (Jang et al. 2017 §4: μ = 0.9).
public final class SGDMomentum: Optimizer {
    public static let name = "sgd"
    public var learningRate: Float
    public let momentum: Float
    public let state: ParameterSet

    public init(parameters: ParameterSet, learningRate: Float, momentum: Float = 0.9) {
        self.learningRate = learningRate
        self.momentum = momentum
        state = parameters.zerosLike(prefix: "velocity/")
    }

    public func step(_ parameters: ParameterSet, gradients: ParameterSet) {
        for (i, p) in parameters.tensors.enumerated() {
            let v = state.tensors[i].pointer, g = gradients.tensors[i].pointer, w = p.pointer
            for j in 0..<p.count {
                v[j] = momentum * v[j] + g[j]
                w[j] -= learningRate * v[j]
            }
        }
    }
}

/// Adam (Kingma & Ba 2015, Algorithm 1) with bias correction.
public final class Adam: Optimizer {
    public static let name = "adam"
    public var learningRate: Float
    public let beta1: Float, beta2: Float, epsilon: Float
    public let state: ParameterSet
    private let firstCount: Int

    public init(parameters: ParameterSet, learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        let m = parameters.zerosLike(prefix: "m/")
        let v = parameters.zerosLike(prefix: "v/")
        firstCount = m.names.count
        state = ParameterSet(zip(m.names + v.names, m.tensors + v.tensors).map { ($0.0, $0.1.rows, $0.1.cols) }
                             + [("t", 1, 1)])
    }

    public func step(_ parameters: ParameterSet, gradients: ParameterSet) {
        let tCell = state.tensors[state.tensors.count - 1]
        tCell.storage[0] += 1
        let t = tCell.storage[0]
        let c1 = 1 - pow(beta1, t), c2 = 1 - pow(beta2, t)
        let stepSize = learningRate * c2.squareRoot() / c1
        let epsHat = epsilon * c2.squareRoot()
        for (i, p) in parameters.tensors.enumerated() {
            let m = state.tensors[i].pointer, v = state.tensors[firstCount + i].pointer
            let g = gradients.tensors[i].pointer, w = p.pointer
            for j in 0..<p.count {
                m[j] = beta1 * m[j] + (1 - beta1) * g[j]
                v[j] = beta2 * v[j] + (1 - beta2) * g[j] * g[j]
                w[j] -= stepSize * m[j] / (v[j].squareRoot() + epsHat)
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
