import SBNConfig
import SBNModel

/// Which row of Jang et al. 2017's Table 1 (the ICLR version's table of both experiments) a run
/// belongs to: SBN (Bernoulli) 392-200-200-392, SBN (categorical) 392-(20×10)-(20×10)-392, or
/// the §4.2 VAE with Bernoulli (200) or categorical (20×10) latents. The model family and the
/// hidden layers (all of one kind) decide it.
public enum PaperColumn: String, Sendable, CaseIterable {
    case bernoulli
    case categorical
    case vaeBernoulli = "vae-bernoulli"
    case vaeCategorical = "vae-categorical"
    /// §4.3's semi-supervised M2: test accuracy (%).
    case semiSupervised = "ssl"

    public init?(_ config: ExperimentConfig) {
        if config.model.family == SemiSupervisedFamily.name {
            self = .semiSupervised
            return
        }
        let vae = config.model.family == VAEFamily.name
        if config.layers.hidden.allSatisfy({ $0 is BernoulliUnits }) {
            self = vae ? .vaeBernoulli : .bernoulli
        } else if config.layers.hidden.allSatisfy({ $0 is CategoricalUnits }) {
            self = vae ? .vaeCategorical : .categorical
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

    /// §4.2, −ELBO (nats) of the VAE on binarized MNIST (notes/paper-and-estimators.md).
    public static let vaeBernoulli: [Entry] = [
        ("reinforce", "SF", 112.2), ("darn", "DARN", 110.9), ("muprop", "MuProp", 109.7), ("st", "ST", 116.0),
        ("st-annealed", "Annealed ST", 111.5), ("gs", "Gumbel-Softmax", 105.0), ("st-gs", "ST Gumbel-Softmax", 111.5),
    ]

    public static let vaeCategorical: [Entry] = [
        ("reinforce", "SF", 110.6), ("darn", "DARN", 128.8), ("muprop", "MuProp", 107.0), ("st", "ST", 110.9),
        ("st-annealed", "Annealed ST", 107.8), ("gs", "Gumbel-Softmax", 101.5), ("st-gs", "ST Gumbel-Softmax", 107.8),
    ]

    /// §4.3, test accuracy (%) of M2 with 100 labels; the ELBOs are −106.8, −109.6 and −110.7.
    public static let semiSupervised: [Entry] = [
        ("marginal", "marginalization", 92.6), ("gs", "Gumbel", 92.4), ("st-gs", "ST Gumbel-Softmax", 93.6),
    ]

    /// Later results on the same task (Bernoulli column), for estimators not in Table 1.
    public static let later: [Entry] = [
        ("arm", "ARM (Yin & Zhou 2019, Table 3)", 57.9)
    ]

    public static func entries(_ column: PaperColumn) -> [Entry] {
        switch column {
        case .bernoulli: table1Bernoulli + later
        case .categorical: table1Categorical
        case .vaeBernoulli: vaeBernoulli
        case .vaeCategorical: vaeCategorical
        case .semiSupervised: semiSupervised
        }
    }

    public static func nll(for estimator: String, column: PaperColumn?) -> Double? {
        column.flatMap { c in entries(c).first { $0.estimator == estimator }?.nll }
    }

    /// The paper's number for this configuration (test NLL for the SBN, −ELBO for the VAE).
    public static func nll(for config: ExperimentConfig) -> Double? { nll(for: config.estimator, column: PaperColumn(config)) }

    /// A Markdown table of finished runs beside the paper's numbers.
    public static func comparisonTable(_ records: [RunRecord]) -> String {
        var lines = [
            "| experiment | estimator | layers | test (ours, nats: the NLL, or −ELBO where marked) | paper | epochs | wall time |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in records {
            // The paper's metric: the test NLL for the SBN, −ELBO for the VAE.
            let ours =
                r.test.map { t -> String in
                    let (value, sem) = t.paperValue(r.config.family.task)
                    if t.accuracy != nil { return String(format: "%.2f %% ± %.2f (binomial se) accuracy", value, sem) }
                    return String(format: "%.2f ± %.2f (sem, m=%d)%@", value, sem, t.samples, t.negELBO == nil ? "" : " −ELBO")
                } ?? "—"
            let paper = nll(for: r.config).map { String(format: "%.1f", $0) } ?? "—"
            lines.append(
                "| \(r.config.name) | \(r.config.estimator) | \(r.config.layers) | \(ours) | \(paper) | \(r.epochsDone) "
                    + "| \(TimeText.duration(r.elapsed)) |")
        }
        return lines.joined(separator: "\n")
    }
}
