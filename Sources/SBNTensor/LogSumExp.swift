import RealModule

/// Numerically stable log-sum-exp and log-mean-exp, accumulated in Double so that sums over
/// m = 1000 samples do not lose precision.
public enum LogSumExp {
    /// log Σ_i exp(x_i). Returns −∞ for an empty input.
    public static func logSumExp<C: Collection>(_ x: C) -> Double where C.Element: BinaryFloatingPoint {
        guard let maxElement = x.max() else { return -.infinity }
        let m = Double(maxElement)
        if !m.isFinite { return m }
        var s = 0.0
        for v in x { s += Double.exp(Double(v) - m) }
        return m + Double.log(s)
    }

    /// log (1/m) Σ_i exp(x_i): the multi-sample estimate of Raiko et al. 2014 / Burda et al. 2016.
    public static func logMeanExp<C: Collection>(_ x: C) -> Double where C.Element: BinaryFloatingPoint {
        logSumExp(x) - Double.log(Double(x.count))
    }
}
