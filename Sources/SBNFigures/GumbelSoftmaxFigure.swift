import SBNDistributions
import SBNTensor

/// Figure 1 of Jang et al. 2017: a categorical distribution and Gumbel-Softmax distributions with
/// the same logits at τ = 0.1, 0.5, 1 and 10. Top row: the expectation — the class probabilities,
/// then E[y] of the Gumbel-Softmax, estimated from `draws` samples — which approaches the
/// categorical one as τ → 0 and the uniform one as τ grows. Bottom row: one sample each — one-hot
/// for the categorical, ever less one-hot as τ grows. Every number comes from SBNLab's own
/// samplers (`Categorical`, `GumbelSoftmax`), the code the categorical layers train with.
public struct GumbelSoftmaxFigure {
    public var logits: [Float]
    public var temperatures: [Float]
    public var draws: Int

    /// Seven classes with an uneven distribution, like the paper's figure.
    public init(
        probabilities: [Double] = [0.04, 0.17, 0.42, 0.12, 0.05, 0.14, 0.06],
        temperatures: [Float] = [0.1, 0.5, 1, 10], draws: Int = 20_000
    ) {
        logits = probabilities.map { Float(Double.log($0)) }
        self.temperatures = temperatures
        self.draws = draws
    }

    /// The panels' bar heights: (expectations, samples), each [categorical] + one per τ.
    public func panels(seed: UInt64) -> (expectation: [[Float]], sample: [[Float]]) {
        let k = logits.count
        var rng = Xoshiro256(seed: seed)
        let many = Matrix(rows: draws, cols: k)
        for r in 0..<draws { for c in 0..<k { many[r, c] = logits[c] } }
        let one = Matrix(rows: 1, cols: k)
        for c in 0..<k { one[0, c] = logits[c] }

        let p = Matrix(rows: 1, cols: k), z = Matrix(rows: 1, cols: k)
        Categorical(logits: one, classes: k).probabilities(into: p)
        Categorical(logits: one, classes: k).sample(into: z, using: &rng)
        var expectation = [p.values], sample = [z.values]
        let y = Matrix(rows: draws, cols: k), noise = Matrix(rows: draws, cols: k)
        let y1 = Matrix(rows: 1, cols: k), noise1 = Matrix(rows: 1, cols: k)
        for tau in temperatures {
            GumbelSoftmax(logits: many, temperature: tau).rsample(into: y, noise: noise, using: &rng)
            expectation.append((0..<k).map { c in (0..<draws).reduce(Float(0)) { $0 + y[$1, c] } / Float(draws) })
            GumbelSoftmax(logits: one, temperature: tau).rsample(into: y1, noise: noise1, using: &rng)
            sample.append(y1.values)
        }
        return (expectation, sample)
    }

    /// Renders the figure; returns the canvas (RGB).
    public func render(seed: UInt64) -> Canvas {
        let (expectation, sample) = panels(seed: seed)
        let panelW = 190, panelH = 130, gap = 24, left = 150, top = 50, labelH = 30
        let columns = expectation.count
        var canvas = Canvas(width: left + columns * (panelW + gap), height: top + 2 * (panelH + labelH + gap))
        let titles = ["CATEGORICAL"] + temperatures.map { "τ = " + Self.number($0) }
        for (row, (name, values)) in [("EXPECTATION", expectation), ("SAMPLE", sample)].enumerated() {
            let y0 = top + row * (panelH + labelH + gap) + labelH
            canvas.text(name, x: 12, y: y0 + panelH / 2 - 7)
            for (col, bars) in values.enumerated() {
                let x0 = left + col * (panelW + gap)
                canvas.text(titles[col], x: x0 + (panelW - Canvas.textWidth(titles[col])) / 2, y: y0 - labelH + 6)
                drawBars(&canvas, bars, x: x0, y: y0, width: panelW, height: panelH, categorical: col == 0)
            }
        }
        canvas.text(
            "(A) EXPECTATION OF A CATEGORICAL AND OF GUMBEL-SOFTMAX, (B) ONE SAMPLE EACH",
            x: 12, y: 12, scale: 2, (90, 90, 90))
        return canvas
    }

    /// Bars on [0, 1] with a baseline and a frame; the categorical panel in orange, GS in blue.
    func drawBars(_ canvas: inout Canvas, _ bars: [Float], x: Int, y: Int, width: Int, height: Int, categorical: Bool) {
        canvas.fill(x: x, y: y, width: width, height: height, (246, 246, 246))
        let slot = width / bars.count
        let color: Canvas.Color = categorical ? (230, 120, 30) : (40, 100, 200)
        for (i, v) in bars.enumerated() {
            let h = Int((Float(height - 4) * min(max(v, 0), 1)).rounded())
            canvas.fill(x: x + i * slot + 4, y: y + height - h, width: slot - 8, height: h, color)
        }
        canvas.fill(x: x, y: y + height, width: width, height: 2, (0, 0, 0))
        canvas.fill(x: x, y: y, width: 2, height: height, (0, 0, 0))
    }

    static func number(_ x: Float) -> String { x == x.rounded() ? String(Int(x)) : String(x) }
}
