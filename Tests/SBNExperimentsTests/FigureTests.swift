import SBNFigures
import Testing

/// Figure 1's numbers: the expectation of Gumbel-Softmax approaches the categorical one as τ → 0
/// and the uniform one as τ grows; samples are one-hot for the categorical and sum to 1.
@Suite struct FigureTests {
    @Test func gumbelSoftmaxFigurePanels() {
        let figure = GumbelSoftmaxFigure(draws: 20_000)
        let (expectation, sample) = figure.panels(seed: 3)
        let k = figure.logits.count
        let categorical = expectation[0]
        // τ = 0.1: within 0.02 of the class probabilities (Monte Carlo sd ≤ 0.0035 per class).
        for c in 0..<k { #expect(abs(expectation[1][c] - categorical[c]) < 0.02) }
        // τ = 10: within 0.03 of uniform, while the probabilities range from 0.04 to 0.42.
        for c in 0..<k { #expect(abs(expectation[4][c] - 1 / Float(k)) < 0.03) }
        #expect(sample[0].filter { $0 == 1 }.count == 1 && sample[0].reduce(0, +) == 1)
        for s in sample { #expect(abs(s.reduce(0, +) - 1) < 1e-5) }
        let canvas = figure.render(seed: 3)
        #expect(canvas.rgb.count == canvas.width * canvas.height * 3)
    }
}
