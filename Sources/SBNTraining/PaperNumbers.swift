import SBNConfig
import SBNModel

/// Which column of Jang et al. 2017, Table 1 a network belongs to: StochasticNetwork (Bernoulli) 392-200-200-392
/// or SBN (categorical) 392-(20×10)-(20×10)-392. Hidden layers all of one kind decide it.
public enum PaperColumn: String, Sendable, CaseIterable {
    case bernoulli
    case categorical

    public init?(_ layers: Architecture) {
        if layers.hidden.allSatisfy({ $0 is BernoulliUnits }) {
            self = .bernoulli
        } else if layers.hidden.allSatisfy({ $0 is CategoricalUnits }) {
            self = .categorical
        } else {
            return nil
        }
    }
}

/// Test NLL (nats) of the structured-prediction task, Jang et al. 2017, Table 1, both columns.
public enum PaperNumbers {
    public typealias Entry = (estimator: String, label: String, nll: Double)

    public static let table1Bernoulli: [Entry] = [
        ("reinforce", "SF", 72.0), ("darn", "DARN", 59.7), ("muprop", "MuProp", 58.9), ("st", "ST", 58.9),
        ("st-annealed", "Annealed ST", 58.7), ("gs", "Gumbel-Softmax", 58.5), ("st-gs", "ST Gumbel-Softmax", 59.3),
    ]

    public static let table1Categorical: [Entry] = [
        ("reinforce", "SF", 73.1), ("darn", "DARN", 67.9), ("muprop", "MuProp", 63.0), ("st", "ST", 61.8),
        ("st-annealed", "Annealed ST", 61.1), ("gs", "Gumbel-Softmax", 59.0), ("st-gs", "ST Gumbel-Softmax", 59.7),
    ]

    /// Later results on the same task (Bernoulli column), for estimators not in Table 1.
    public static let later: [Entry] = [
        ("arm", "ARM (Yin & Zhou 2019, Table 3)", 57.9),
    ]

    public static func entries(_ column: PaperColumn) -> [Entry] {
        switch column {
        case .bernoulli: table1Bernoulli + later
        case .categorical: table1Categorical
        }
    }

    public static func nll(for estimator: String, column: PaperColumn?) -> Double? {
        column.flatMap { c in entries(c).first { $0.estimator == estimator }?.nll }
    }

    public static func nll(for config: ExperimentConfig) -> Double? { nll(for: config.estimator, column: PaperColumn(config.layers)) }

    /// A Markdown table of finished runs beside the paper's numbers.
    public static func comparisonTable(_ records: [RunRecord]) -> String {
        var lines = ["| experiment | estimator | layers | test NLL (ours, nats) | paper | epochs | wall time |",
                     "|---|---|---|---|---|---|---|"]
        for r in records {
            let ours = r.test.map { String(format: "%.2f ± %.2f (sem, m=%d)", $0.nll, $0.sem, $0.samples) } ?? "—"
            let paper = nll(for: r.config).map { String(format: "%.1f", $0) } ?? "—"
            lines.append("| \(r.config.name) | \(r.config.estimator) | \(r.config.layers) | \(ours) | \(paper) | \(r.epochsDone) "
                         + "| \(TimeText.duration(r.elapsed)) |")
        }
        return lines.joined(separator: "\n")
    }
}
