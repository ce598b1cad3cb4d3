import SBNConfig

/// Test NLL (nats) of the SBN (Bernoulli) 392-200-200-392 row of Jang et al. 2017, Table 1.
public enum PaperNumbers {
    public static let table1Bernoulli: [(estimator: String, label: String, nll: Double)] = [
        ("reinforce", "SF", 72.0), ("darn", "DARN", 59.7), ("muprop", "MuProp", 58.9), ("st", "ST", 58.9),
        ("annealed-st", "Annealed ST", 58.7), ("gs", "Gumbel-Softmax", 58.5), ("st-gs", "ST Gumbel-Softmax", 59.3),
    ]

    /// Later results on the same task, for estimators not in Table 1.
    public static let later: [(estimator: String, label: String, nll: Double)] = [
        ("arm", "ARM (Yin & Zhou 2019, Table 3)", 57.9),
    ]

    public static func nll(for estimator: String) -> Double? {
        (table1Bernoulli + later).first { $0.estimator == estimator }?.nll
    }

    /// A Markdown table of finished runs beside the paper's numbers.
    public static func comparisonTable(_ records: [RunRecord]) -> String {
        var lines = ["| experiment | estimator | test NLL (ours, nats) | paper | epochs | wall time |",
                     "|---|---|---|---|---|---|"]
        for r in records {
            let ours = r.test.map { String(format: "%.2f ± %.2f (m=%d)", $0.nll, $0.sem, $0.samples) } ?? "—"
            let paper = nll(for: r.config.estimator).map { String(format: "%.1f", $0) } ?? "—"
            lines.append("| \(r.config.name) | \(r.config.estimator) | \(ours) | \(paper) | \(r.epochsDone) | \(TimeText.duration(r.elapsed)) |")
        }
        return lines.joined(separator: "\n")
    }
}
