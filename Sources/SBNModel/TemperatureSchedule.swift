import RealModule
import SBNOptions

/// A temperature schedule τ(t) for relaxed estimators, chosen by name under `temperature:`.
public protocol TemperatureSchedule: Component, Sendable {
    init(options: Options)
    func temperature(atStep step: Int) -> Float
}

extension TemperatureSchedule {
    public static func make(options: AnyOptions) -> any TemperatureSchedule {
        guard let typed = options.as(Options.self) else { preconditionFailure("\(name): options of another schedule") }
        return Self(options: typed)
    }
}

/// τ fixed (Jang et al. 2017 §4.1 use τ = 1 for this task).
public struct FixedTemperature: TemperatureSchedule {
    public struct Options: ComponentOptions {
        @Positive public var tau = 1.0
        public init() {}
    }

    public static let name = "fixed"
    public static let summary = "τ fixed"
    let tau: Float
    public init(options: Options) { tau = Float(options.tau) }
    public func temperature(atStep step: Int) -> Float { tau }
}

/// τ = max(τ_min, τ₀·exp(−r·t)), with t rounded down to a multiple of N
/// (Jang et al. 2017 §4.2 with τ₀ = 1: N ∈ {500, 1000}, r ∈ {1e-5, 1e-4}, τ_min = 0.5).
public struct ExponentialTemperature: TemperatureSchedule {
    public struct Options: ComponentOptions {
        @Positive public var tau = 1.0
        @Positive public var tauMin = 0.5
        @NonNegative public var rate = 1e-4
        @Count public var every = 1000
        public init() {}
    }

    public static let name = "exponential"
    public static let summary = "τ = max(τ_min, τ·exp(−rate·t)), t rounded down to a multiple of `every` (Jang et al. 2017 §4.2)"
    let options: Options
    public init(options: Options) { self.options = options }
    public func temperature(atStep step: Int) -> Float {
        let t = Double(step / options.every * options.every)
        return Float(max(options.tauMin, options.tau * Double.exp(-options.rate * t)))
    }
}

/// Slope annealing, as Chung et al. 2017 (§3.3) pace it: the slope s = 1/τ grows linearly,
/// s = min(s_max, s₀ + increase·⌊t / every⌋); with every = 500 steps (one epoch of 50000 images
/// in batches of 100) and their s₀ = 1, increase 0.04, s_max = 5, s reaches 5 at epoch 100. For
/// `st-annealed`, whose backward slope is 1/τ.
public struct SlopeTemperature: TemperatureSchedule {
    public struct Options: ComponentOptions {
        @Positive public var slope = 1.0
        @Positive public var slopeMax = 5.0
        @NonNegative public var increase = 0.04
        @Count public var every = 500
        public init() {}
    }

    public static let name = "slope"
    public static let summary =
        "τ = 1/s, s = min(slope_max, slope + increase·⌊t/every⌋): Chung et al. 2017's linear slope annealing"
    let options: Options
    public init(options: Options) { self.options = options }
    public func temperature(atStep step: Int) -> Float {
        let s = min(options.slopeMax, options.slope + options.increase * Double(step / options.every))
        return Float(1 / s)
    }
}

/// Schedules by name. Adding one: a type above (or in its own file) plus one line here.
public enum ScheduleRegistry {
    public static let registry = Registry<any TemperatureSchedule.Type>(
        kind: "schedule", [FixedTemperature.self, ExponentialTemperature.self, SlopeTemperature.self]
    ) { $0 }
}
