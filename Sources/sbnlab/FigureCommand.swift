import ArgumentParser
import SBNLab

/// `sbnlab figure <name> --out FILE.png`: figures that need no run.
struct FigureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "figure", abstract: "Draw a figure of the paper from SBNLab's own samplers (PNG).",
        subcommands: [GumbelSoftmaxFigureCommand.self])
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
