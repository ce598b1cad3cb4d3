import SBNModel

/// The running moments of a score-function learning signal, kept in an estimator's
/// `ComponentState` (so that a checkpoint restores them) under two keys: NVIL's centring by a
/// moving mean c, and its variance normalization by max(floor, σ), σ² a moving average of the
/// batch variance (Mnih & Gregor 2014, §3.3). Used by `reinforce` (one signal), `muprop` and
/// `darn` (one per hidden layer). Both use only earlier batches, except the first batch, which
/// seeds them with its own moments (estimators' tests skip it).
struct SignalMoments {
    let state: ComponentState
    let meanKey: String, varianceKey: String

    /// A state with a "batches" counter and, per hidden layer l, "mean_layer<l>" and
    /// "variance_layer<l>", and the moments of each layer over it (muprop, darn).
    static func perLayer(_ layers: Range<Int>) -> (state: ComponentState, moments: [SignalMoments]) {
        var reals: [String: Double] = [:]
        for l in layers { (reals["mean_layer\(l)"], reals["variance_layer\(l)"]) = (0, 0) }
        let state = ComponentState(integers: ["batches": 0], reals: reals, nonNegative: ["variance"])
        return (state, layers.map { SignalMoments(state: state, meanKey: "mean_layer\($0)", varianceKey: "variance_layer\($0)") })
    }

    /// Mean and variance (around that mean) of `values[0..<n]`.
    static func of(_ values: UnsafeMutableBufferPointer<Double>, count n: Int) -> (mean: Double, variance: Double) {
        let mean = (0..<n).reduce(0.0) { $0 + values[$1] } / Double(n)
        let variance = (0..<n).reduce(0.0) { $0 + pow2(values[$1] - mean) } / Double(n)
        return (mean, variance)
    }

    /// Before the first update the running moments are the first batch's own.
    func seed(with batch: (mean: Double, variance: Double)) {
        guard state.integers["batches"] == 0 else { return }
        state.reals[meanKey] = batch.mean
        state.reals[varianceKey] = batch.variance
    }

    /// c, or 0 when centring is off.
    func centre(_ enabled: Bool) -> Double { enabled ? state.reals[meanKey]! : 0 }

    /// 1 / max(floor, σ), or 1 when variance normalization is off.
    func scale(_ enabled: Bool, floor: Double) -> Double {
        enabled ? 1 / max(floor, state.reals[varianceKey]!.squareRoot()) : 1
    }

    /// Moves both averages toward the batch's moments. New values first: reading the dictionary
    /// inside the assignment would keep a second reference to it during the write, which then
    /// copies it (an allocation per step).
    func update(with batch: (mean: Double, variance: Double), decay: Double) {
        let mean = decay * state.reals[meanKey]! + (1 - decay) * batch.mean
        let variance = decay * state.reals[varianceKey]! + (1 - decay) * batch.variance
        state.reals[meanKey] = mean
        state.reals[varianceKey] = variance
    }
}

@inline(__always) func pow2(_ x: Double) -> Double { x * x }
