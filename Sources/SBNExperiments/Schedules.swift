/// A temperature schedule τ(t) for relaxed estimators.
public protocol TemperatureSchedule: Sendable {
    static var name: String { get }
    init(_ config: ExperimentConfig.Temperature)
    func temperature(atStep step: Int) -> Float
}

/// τ fixed (Jang et al. 2017 §4.1 use τ = 1 for this task).
public struct FixedTemperature: TemperatureSchedule {
    public static let name = "fixed"
    let tau: Float
    public init(_ c: ExperimentConfig.Temperature) { tau = Float(c.tau) }
    public func temperature(atStep step: Int) -> Float { tau }
}

/// τ = max(τ_min, τ₀·exp(−r·t)), with t rounded down to a multiple of N
/// (Jang et al. 2017 §4.2 with τ₀ = 1: N ∈ {500, 1000}, r ∈ {1e-5, 1e-4}, τ_min = 0.5).
public struct ExponentialTemperature: TemperatureSchedule {
    public static let name = "exponential"
    let c: ExperimentConfig.Temperature
    public init(_ c: ExperimentConfig.Temperature) { self.c = c }
    public func temperature(atStep step: Int) -> Float {
        let t = Double(step / c.every * c.every)
        return Float(max(c.tauMin, c.tau * _exp(-c.rate * t)))
    }
}

/// Schedules by name. Adding one: a type above (or in its own file) plus one line here.
public enum ScheduleRegistry {
    public static let all: [any TemperatureSchedule.Type] = [FixedTemperature.self, ExponentialTemperature.self]
    public static var names: [String] { all.map { $0.name } }
    public static func lookup(_ name: String) -> (any TemperatureSchedule.Type)? { all.first { $0.name == name } }
}

#if canImport(Glibc)
import Glibc
@inline(__always) func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#endif
