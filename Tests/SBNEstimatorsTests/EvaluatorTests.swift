import Foundation
import SBNDiagnostics
import SBNDistributions
import SBNModel
import SBNTensor
import Testing

/// The test metric itself: log (1/m) Σ_i p(x_bottom | h_i) with ancestral samples.
@Suite struct EvaluatorTests {
    /// Exact −log p(x_bottom | x_top) of a tiny SBN by enumerating every hidden state.
    func exactNLL(_ model: StochasticNetwork, top: [Double], bottom: [Double]) -> Double {
        let ref = ReferenceSBN(model)
        var terms: [Double] = []
        let a1 = ref.linear(1, top)
        for h1 in ref.states(1) {
            let a2 = ref.linear(2, h1)
            for h2 in ref.states(2) {
                terms.append(ref.logProb(1, h1, a1) + ref.logProb(2, h2, a2) - ref.outputNLL(h2, target: bottom))
            }
        }
        let best = terms.max()!
        return -(best + log(terms.reduce(0) { $0 + exp($1 - best) }))
    }

    func fill(_ source: Batch) -> @Sendable (Batch, Range<Int>) -> Void {
        let top = source.input.values, bottom = source.target.values
        let (wt, wb) = (source.input.cols, source.target.cols)
        return { batch, range in
            batch.input.setRows(range.count)
            batch.target.setRows(range.count)
            for (r, i) in range.enumerated() {
                for j in 0..<wt { batch.input[r, j] = top[i * wt + j] }
                for j in 0..<wb { batch.target[r, j] = bottom[i * wb + j] }
            }
        }
    }

    /// With many samples the estimate converges to the exact value from below (Jensen); at
    /// m = 20000 its bias and noise are far below 0.02 nats for these networks (Bernoulli and
    /// categorical hidden layers, each drawn by its own exact sampler).
    @Test(arguments: TinyNet.allCases)
    func estimateConvergesToTheEnumeratedLikelihood(net: TinyNet) {
        let (model, batch) = tinyProblem(net.architecture, images: 5, seed: 41)
        let e = Evaluator.evaluate(model: model, count: 5, samples: 20_000, seed: 42, threads: 2, fill: fill(batch))
        for b in 0..<5 {
            let exact = exactNLL(
                model, top: (0..<6).map { Double(batch.input[b, $0]) }, bottom: (0..<6).map { Double(batch.target[b, $0]) })
            #expect(abs(e.perImage[b] - exact) < 0.02, "image \(b): estimate \(e.perImage[b]), exact \(exact)")
        }
        #expect(abs(e.nll - e.perImage.reduce(0, +) / 5) < 1e-12)
    }

    /// Per-chunk noise streams: the numbers do not depend on the number of worker threads.
    @Test func resultsDoNotDependOnThreads() {
        var rng = Xoshiro256(seed: 43)
        let model = StochasticNetwork(sizes: [392, 50, 40, 392], rng: &rng)
        let batch = Batch(capacity: 300, inputSize: 392, outputSize: 392)
        for m in [batch.input, batch.target] { for i in 0..<m.count { m.storage[i] = rng.nextUniform() < 0.2 ? 1 : 0 } }
        let one = Evaluator.evaluate(model: model, count: 300, samples: 50, seed: 44, threads: 1, fill: fill(batch))
        let two = Evaluator.evaluate(model: model, count: 300, samples: 50, seed: 44, threads: 2, fill: fill(batch))
        #expect(one.perImage == two.perImage)
        #expect(one.standardError > 0 && one.images == 300 && one.samples == 50)
    }
}
