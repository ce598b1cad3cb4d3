import RealModule
import SBNOptions

/// A learning-rate schedule η(t) around the configured `lr`, chosen by name under `lr_schedule:`.
/// The optimizer takes η(t) before step t. It is a function of the step alone, so a checkpoint
/// needs nothing of it and a resumed run continues the same sequence.
public protocol LearningRateSchedule: Component, Sendable {
    init(options: Options)
    /// The rate of step `step` (0-based), for the configured rate `base`.
    func learningRate(base: Double, atStep step: Int) -> Float
}

extension LearningRateSchedule {
    public static func make(options: AnyOptions) -> any LearningRateSchedule {
        guard let typed = options.as(Options.self) else { preconditionFailure("\(name): options of another schedule") }
        return Self(options: typed)
    }
}

/// η = lr at every step (the paper's §4.1 and §4.2 protocol, and every run before this option).
public struct ConstantRate: LearningRateSchedule {
    public static let name = "constant"
    public static let summary = "η = lr at every step"
    public init(options: NoOptions) {}
    public func learningRate(base: Double, atStep step: Int) -> Float { Float(base) }
}

/// η = max(floor, lr·factor^⌊t/every⌋). Jang's "Categorical VAE" notebook (ericjang/gumbel-softmax)
/// multiplies Adam's 1e-3 by 0.9 every 1000 steps over its 50000; the paper's text states no decay.
public struct StepDecay: LearningRateSchedule {
    public struct Options: ComponentOptions {
        @Factor public var factor = 0.9
        @Count public var every = 1000
        @NonNegative public var floor = 0.0
        public init() {}
    }

    public static let name = "step"
    public static let summary =
        "η = max(floor, lr·factor^⌊t/every⌋): step decay (Jang's notebook: 0.9 every 1000 steps)"
    let options: Options
    public init(options: Options) { self.options = options }
    public func learningRate(base: Double, atStep step: Int) -> Float {
        let decayed = base * Double.pow(options.factor, Double(step / options.every))
        return Float(max(options.floor, decayed))
    }
}

/// Learning-rate schedules by name. Adding one: a type above (or in its own file) plus one line here.
public enum LearningRateSchedules {
    public static let registry = Registry<any LearningRateSchedule.Type>(
        kind: "lr schedule", [ConstantRate.self, StepDecay.self]
    ) { $0 }
}
