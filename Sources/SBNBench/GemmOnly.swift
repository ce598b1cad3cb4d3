import Atomics
import Dispatch
import SBNModel
import SBNTensor

/// The 8 gemms of a training step (batch 100, 392-200-200-392) with nothing else, split into
/// the same parts as `NetworkWorkspace` (rows of the batch forward, units of a layer for weight
/// gradients) and run by the same `PartRunner`.
struct GemmStep {
    let runner: PartRunner
    let sizes = [392, 200, 200, 392], batch = 100
    let weights: [Matrix], gradWeights: [Matrix], inputs: [Matrix], outputs: [Matrix], gradInputs: [Matrix]

    init(workers: Int) {
        runner = PartRunner(workers: workers)
        let sizes = self.sizes, batch = self.batch
        weights = (1...3).map { Matrix(rows: sizes[$0 - 1], cols: sizes[$0]) }
        gradWeights = (1...3).map { Matrix(rows: sizes[$0 - 1], cols: sizes[$0]) }
        inputs = (0...2).map { Matrix(rows: batch, cols: sizes[$0]) }
        outputs = (1...3).map { Matrix(rows: batch, cols: sizes[$0]) }
        gradInputs = (0...2).map { Matrix(rows: batch, cols: sizes[$0]) }
    }

    func step() {
        let rows = PartRunner.boundary(batch)
        for l in 0..<3 {
            runner.run { p in
                let r = PartRunner.range(p, of: batch, boundary: rows)
                BLAS.gemm(inputs[l].view(rows: r), weights[l].view, into: outputs[l].view(rows: r))
            }
        }
        for l in stride(from: 2, through: 0, by: -1) {
            let units = PartRunner.boundary(sizes[l + 1], align: 16)
            runner.run { p in
                let c = PartRunner.range(p, of: sizes[l + 1], boundary: units)
                BLAS.gemm(inputs[l].view, transposeA: true, outputs[l].view(columns: c), into: gradWeights[l].view(columns: c), beta: 1)
                if l > 0 {
                    let r = PartRunner.range(p, of: batch, boundary: rows)
                    BLAS.gemm(outputs[l].view(rows: r), weights[l].view, transposeB: true, into: gradInputs[l].view(rows: r))
                }
            }
        }
    }

    /// Seconds per step: parts on the runner's workers, or (with `openBLASThreads` > 1) one
    /// unsplit gemm each with OpenBLAS threading.
    func seconds(openBLASThreads: Int = 1) -> Double {
        BLAS.threads = openBLASThreads
        defer { BLAS.threads = 1 }
        if openBLASThreads > 1 {
            return bestTime(iterations: 200) {
                for l in 0..<3 { BLAS.gemm(inputs[l], weights[l], into: outputs[l]) }
                for l in stride(from: 2, through: 0, by: -1) {
                    BLAS.gemm(inputs[l], transposeA: true, outputs[l], into: gradWeights[l], beta: 1)
                    if l > 0 { BLAS.gemm(outputs[l], weights[l], transposeB: true, into: gradInputs[l]) }
                }
            }
        }
        return bestTime(iterations: 200) { step() }
    }
}

/// The gemms of an evaluation with `Evaluator`'s chunks and workers, and nothing else.
struct EvaluationGemms {
    let model: StochasticNetwork
    let images: Int, samples: Int, threads: Int

    func seconds() -> Double {
        BLAS.threads = 1
        let chunk = Evaluator.chunkImages(samples: samples)
        let chunks = (images + chunk - 1) / chunk
        let next = ManagedAtomic<Int>(0)
        let sizes = model.sizes, model = self.model, samples = self.samples
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let rows = chunk * samples
            let top = Matrix(rows: chunk, cols: sizes[0]), first = Matrix(rows: chunk, cols: sizes[1])
            let hidden = (1...2).map { Matrix(rows: rows, cols: sizes[$0]) }
            let logits = (2...3).map { Matrix(rows: rows, cols: sizes[$0]) }
            let boundary = PartRunner.boundary(rows)
            while next.loadThenWrappingIncrement(ordering: .relaxed) < chunks {
                BLAS.gemm(top, model.weight(1), into: first)
                for (i, l) in [2, 3].enumerated() {
                    for p in 0..<PartRunner.parts {
                        let r = PartRunner.range(p, of: rows, boundary: boundary)
                        BLAS.gemm(hidden[i].view(rows: r), model.weight(l).view, into: logits[i].view(rows: r))
                    }
                }
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
