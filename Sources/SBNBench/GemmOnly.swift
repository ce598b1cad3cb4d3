import Atomics
import Dispatch
import SBNModel
import SBNTensor

/// The gemms of a training step with nothing else, split into the same parts as
/// `NetworkWorkspace` (rows of the batch forward, units of a layer for weight gradients) and run
/// by the same `PartRunner`: for dense layers of `widths` (392-200-200-392: the SBN's 8 gemms;
/// 784-512-256-200-256-512-784: the mlp VAE's 17), forward, then every weight gradient and every
/// input gradient but the first layer's.
struct GemmStep {
    let runner: PartRunner
    let sizes: [Int], batch = 100
    let weights: [Matrix], gradWeights: [Matrix], inputs: [Matrix], outputs: [Matrix], gradInputs: [Matrix]

    init(workers: Int, widths: [Int] = [392, 200, 200, 392]) {
        runner = PartRunner(workers: workers)
        sizes = widths
        let batch = self.batch, layers = 1..<widths.count
        weights = layers.map { Matrix(rows: widths[$0 - 1], cols: widths[$0]) }
        gradWeights = layers.map { Matrix(rows: widths[$0 - 1], cols: widths[$0]) }
        inputs = layers.map { Matrix(rows: batch, cols: widths[$0 - 1]) }
        outputs = layers.map { Matrix(rows: batch, cols: widths[$0]) }
        gradInputs = layers.map { Matrix(rows: batch, cols: widths[$0 - 1]) }
    }

    /// The number of gemms of a step.
    var gemmCount: Int { 3 * weights.count - 1 }

    func step() {
        let rows = PartRunner.boundary(batch), depth = weights.count
        for l in 0..<depth {
            runner.run { p in
                let r = PartRunner.range(p, of: batch, boundary: rows)
                BLAS.gemm(inputs[l].view(rows: r), weights[l].view, into: outputs[l].view(rows: r))
            }
        }
        for l in stride(from: depth - 1, through: 0, by: -1) {
            let units = PartRunner.boundary(sizes[l + 1], align: 16)
            runner.run { p in
                let c = PartRunner.range(p, of: sizes[l + 1], boundary: units)
                BLAS.gemm(
                    inputs[l].view, transposeA: true, outputs[l].view(columns: c), into: gradWeights[l].view(columns: c), beta: 1)
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
                for l in weights.indices { BLAS.gemm(inputs[l], weights[l], into: outputs[l]) }
                for l in stride(from: weights.count - 1, through: 0, by: -1) {
                    BLAS.gemm(inputs[l], transposeA: true, outputs[l], into: gradWeights[l], beta: 1)
                    if l > 0 { BLAS.gemm(outputs[l], weights[l], transposeB: true, into: gradInputs[l]) }
                }
            }
        }
        return bestTime(iterations: 200) { step() }
    }
}

/// The gemms of an evaluation with `Evaluator`'s chunks and workers, and nothing else: the first
/// map once per image, every other map over the chunk's images × samples rows in the workspace's
/// parts, for any network (the SBN's linear maps, the VAE's MLPs).
struct EvaluationGemms {
    let model: StochasticNetwork
    let images: Int, samples: Int, threads: Int

    func seconds() -> Double {
        BLAS.threads = 1
        let chunk = Evaluator.chunkImages(samples: samples)
        let chunks = (images + chunk - 1) / chunk
        let next = ManagedAtomic<Int>(0)
        let model = self.model, samples = self.samples
        let start = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let rows = chunk * samples
            // Per map, its dense layers' inputs and outputs: per image for map 1, per row after it.
            let buffers = (1...model.layerCount).map { l in
                model.maps[l].widths.map { Matrix(rows: l == 1 ? chunk : rows, cols: $0) }
            }
            let boundary = PartRunner.boundary(rows)
            while next.loadThenWrappingIncrement(ordering: .relaxed) < chunks {
                for l in 1...model.layerCount {
                    let map = model.maps[l], b = buffers[l - 1]
                    for k in 0..<map.depth {
                        if l == 1 {
                            BLAS.gemm(b[k], map.weights[k], into: b[k + 1])
                            continue
                        }
                        for p in 0..<PartRunner.parts {
                            let r = PartRunner.range(p, of: rows, boundary: boundary)
                            BLAS.gemm(b[k].view(rows: r), map.weights[k].view, into: b[k + 1].view(rows: r))
                        }
                    }
                }
            }
        }
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }
}
