import ArgumentParser
import Foundation
import SBNLab

/// `sbnlab show FILE`: the configuration, status, final numbers and a sparkline of a run file,
/// or the rows of a summary.h5.
struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "Inspect a run.h5 or summary.h5.")

    @Argument(help: "A run results file or a sweep's summary.h5.")
    var file: String

    func run() throws {
        try reportingErrors {
            try UntrustedFile.check(file, as: .record)
            let f = try HDF5File.open(file)
            if f.contains("point") { return try showSummary(try SweepSummary.read(file)) }
            let r = try ResultsFile.readRecord(file)
            print("\(file): \(r.config.name) — status \(r.status.rawValue)\(r.error.map { " (\($0))" } ?? "")")
            print("code \(r.codeVersion), sbnlab \(try f.stringAttribute("sbnlab_version"))")
            print("config: \(r.configJSON)")
            print(
                String(
                    format: "epochs %d/%d, steps %d, wall time %@", r.epochsDone, r.config.epochs, r.steps,
                    TimeText.duration(r.elapsed)))
            if !r.valid.isEmpty {
                let curve = r.valid.map(\.nll)
                let label =
                    ["neg_elbo": "valid −ELBO", "error": "valid error %"][r.config.family.task.selectionMetric] ?? "valid NLL"
                print(
                    String(
                        format: "%@ (m=%d): %@  %.2f → %.2f, best %.2f @ epoch %d", label, r.validSamples, Self.sparkline(curve),
                        curve.first!, curve.last!, r.bestValidNLL, r.bestEpoch))
            }
            if let t = r.test {
                let paper = PaperNumbers.nll(for: r.config).map { String(format: ", paper %.1f", $0) } ?? ""
                if let accuracy = t.accuracy, let sem = t.accuracySem {
                    print(
                        String(
                            format: "test accuracy %.2f %% ± %.2f (the paper's metric%@; binomial se, %d images)", 100 * accuracy,
                            100 * sem, paper, t.images))
                    if let c = t.confusion { print("test " + c.summaryLine) }
                }
                if let elbo = t.negELBO, let sem = t.negELBOSem {
                    print(
                        String(
                            format: "test −ELBO %.3f ± %.3f nats (%@); −log p(x) ≈ %.3f ± %.3f "
                                + "(importance-weighted, m=%d, %d images; ± per-image standard errors)",
                            elbo, sem, t.accuracy == nil ? "the paper's metric" + paper : "unlabelled", t.nll, t.sem, t.samples,
                            t.images))
                } else {
                    print(
                        String(format: "test NLL %.3f ± %.3f nats (m=%d, %d images%@)", t.nll, t.sem, t.samples, t.images, paper))
                }
            }
        }
    }

    func showSummary(_ s: SweepSummary) throws {
        print("\(file): sweep \(s.name), \(s.rows.count) runs, axes \(s.axes.joined(separator: ", "))")
        for r in s.rows {
            print(String(format: "  %-50@ %-9@ valid %7.2f  test %7.2f", r.point, r.status, r.bestValidNLL, r.testNLL))
        }
    }

    /// Eight-level Unicode sparkline of a series (min → ▁, max → █), at most `width` characters
    /// (longer series are averaged in equal buckets). A bucket holding inf or NaN (a diverged
    /// run's curve) is drawn as `!` and left out of the scale.
    static func sparkline(_ series: [Double], width: Int = 50) -> String {
        let ticks = Array("▁▂▃▄▅▆▇█")
        let buckets = min(series.count, width)
        let x = (0..<buckets).map { b -> Double in
            let part = series[(b * series.count / buckets)..<((b + 1) * series.count / buckets)]
            return part.reduce(0, +) / Double(part.count)
        }
        let finite = x.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max(), hi > lo else {
            return String(x.map { $0.isFinite ? "▄" : "!" })
        }
        // Halves first: hi − lo overflows for values near ±Double.greatestFiniteMagnitude.
        let span = hi / 2 - lo / 2
        return String(
            x.map { v in
                guard v.isFinite else { return "!" }
                let f = (v / 2 - lo / 2) / span
                return ticks[f.isFinite ? min(7, max(0, Int(f * 8))) : 0]
            })
    }
}

/// `sbnlab impute RUN.h5 --out imputations.png`: test digits with sampled bottom halves.
struct ImputeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "impute", abstract: "Draw test digits with bottom halves sampled from a run's best model (PNG).")

    @Argument(help: "A run results file.")
    var runFile: String

    @Option(help: "Output PNG.")
    var out = "imputations.png"

    @Option(help: "Number of test digits (rows).")
    var images = 10

    @Option(help: "Sampled bottom halves per digit.")
    var samples = 8

    @Option(help: "Seed of the samples.")
    var seed: UInt64 = 1

    @Option(help: "Dataset (default: the run's data.path).")
    var data: String?

    func validate() throws {
        try expectCount("--images", images, in: 1...100)
        try expectCount("--samples", samples, in: 1...100)
    }

    func run() throws {
        try reportingErrors {
            let (record, model) = try ResultsFile.loadBestModel(runFile)
            guard !record.config.family.task.targetIsInput else {
                throw ValidationError(
                    "\(runFile): a run of the \(record.config.model.family) family, which models whole images; "
                        + "impute draws the bottom halves an SBN predicts (figure vae draws a VAE's reconstructions)")
            }
            let dataset = try BinarizedMNIST(path: data ?? record.config.data.path)
            let n = max(1, min(images, dataset.test.count))
            // Evenly spaced test digits (the test file is not shuffled, so the first ones are alike).
            let stride = dataset.test.count / n
            let picked = dataset.test.binaryImages((0..<n).map { $0 * stride })
            let figure = ImputationFigure(model: model).render(images: picked, count: n, samples: max(1, samples), seed: seed)
            try PNGWriter.write(out, width: figure.width, height: figure.height, rgb: figure.rgb)
            print("wrote \(out) (\(figure.width)x\(figure.height): \(n) digits × (true + \(samples) samples))")
        }
    }
}
