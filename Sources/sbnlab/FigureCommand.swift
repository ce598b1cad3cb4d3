import ArgumentParser
import SBNLab

/// `sbnlab figure <name> --out FILE.png`: figures of the paper, from SBNLab's samplers or a run.
struct FigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure", abstract: "Draw a figure of the paper from SBNLab's own samplers or a run (PNG).",
        subcommands: [GumbelSoftmaxFigureCommand.self, VAEFigureCommand.self])
}

/// `sbnlab figure vae --run RUN.h5`: a discrete VAE's reconstructions, prior samples and (for
/// categorical latents) the grid of one variable's classes.
struct VAEFigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vae",
        abstract:
            "A VAE run's test digits beside reconstructions, digits decoded from the prior, and for categorical latents one variable set to each class."
    )

    @Option(name: .customLong("run"), help: "A VAE run's results file (its best parameters are drawn).")
    var runFile: String

    @Option(help: "Output PNG.")
    var out = "vae.png"

    @Option(help: "Test digits (rows of reconstructions), 1–50.")
    var images = 8

    @Option(help: "Reconstructions per digit, 1–20.")
    var draws = 5

    @Option(help: "Digits decoded from prior samples, 0–200.")
    var prior = 30

    @Option(help: "Categorical variables varied in the class grid, 0–50.")
    var variables = 6

    @Option(help: "Seed of the samples.")
    var seed: UInt64 = 1

    @Option(help: "Dataset (default: the run's data.path).")
    var data: String?

    func validate() throws {
        for (name, value, range) in [
            ("--images", images, 1...50), ("--draws", draws, 1...20), ("--prior", prior, 0...200),
            ("--variables", variables, 0...50),
        ] {
            try expectCount(name, value, in: range)
        }
    }

    func run() throws {
        try reportingErrors {
            let (record, model) = try ResultsFile.loadBestModel(runFile)
            guard record.config.model.family == VAEFamily.name else {
                throw ValidationError("\(runFile): a run of the \(record.config.model.family) family; figure vae draws VAE runs")
            }
            let dataset = try BinarizedMNIST(path: data ?? record.config.data.path)
            let n = min(images, dataset.test.count)
            // Evenly spaced test digits (the test file is not shuffled, so the first ones are alike).
            let stride = dataset.test.count / n
            let digits = dataset.test.binaryImages((0..<n).map { $0 * stride })
            let canvas = VAEFigure(model: model).render(
                images: digits, count: n, draws: draws, prior: prior,
                variables: variables, seed: seed)
            try PNGWriter.write(out, width: canvas.width, height: canvas.height, rgb: canvas.rgb)
            print("wrote \(out) (\(canvas.width)x\(canvas.height))")
        }
    }
}

/// `sbnlab figure gumbel-softmax`: Figure 1 of Jang et al. 2017.
struct GumbelSoftmaxFigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gumbel-softmax",
        abstract: "Jang et al. 2017, Figure 1: a categorical's expectation and Gumbel-Softmax samples at τ = 0.1, 0.5, 1, 10.")

    @Option(help: "Output PNG.")
    var out = "gumbel-softmax.png"

    @Option(help: "Seed of the samples.")
    var seed: UInt64 = 1

    @Option(help: "Samples per expectation.")
    var draws = 20_000

    func run() throws {
        try reportingErrors {
            guard draws >= 1 else { throw ValidationError("--draws: expected a whole number ≥ 1, got \(draws)") }
            let figure = GumbelSoftmaxFigure(draws: draws)
            let canvas = figure.render(seed: seed)
            try PNGWriter.write(out, width: canvas.width, height: canvas.height, rgb: canvas.rgb)
            print("wrote \(out) (\(canvas.width)x\(canvas.height))")
        }
    }
}
