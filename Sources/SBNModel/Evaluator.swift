import Atomics
import Dispatch
import SBNDistributions
import SBNTensor

/// An evaluation with exact (discrete) samples. Per image, the m-sample importance-weighted
/// estimate −log (1/m) Σ_i exp(−f(h_i)) with h_i drawn ancestrally (log-sum-exp − log m): for
/// the SBN the test NLL of Jang et al. 2017 §4.1, −log p(x_bottom | x_top); for the VAE
/// −log p(x) by importance sampling from q (Burda et al. 2016). For a model with a prior term,
/// also −ELBO, the mean of f(h_i) over the m samples (the paper's §4.2 number). Each is a mean
/// over images with its standard error.
public struct Evaluation: Sendable {
    public let nll: Double
    public let standardError: Double
    public let samples: Int
    public let images: Int
    /// Per-image NLL estimates, in image order.
    public let perImage: [Double]
    /// −ELBO per image and its mean and standard error (nil for a model without a prior term).
    public let elbo: MeanWithError?
}

/// A mean over images with its standard error, and the values.
public struct MeanWithError: Sendable {
    public let mean: Double
    public let standardError: Double
    public let values: [Double]

    public init(_ values: [Double]) {
        let n = Double(max(values.count, 1))
        let m = values.reduce(0, +) / n
        let variance = values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(max(values.count - 1, 1))
        mean = m
        standardError = (variance / n).squareRoot()
        self.values = values
    }
}

public enum Evaluator {
    /// Images per chunk: chunk × m ≈ 2000 rows keeps the gemms large (M = 1000 per part) and a
    /// worker's buffers (≈ 10 MB) small enough that two workers do not evict each other from the
    /// shared cache (4000 rows measured ≈ 15 % slower on 2 cores).
    public static func chunkImages(samples: Int) -> Int { max(1, 2000 / samples) }

    /// Evaluates `model` on `count` images supplied by `fill(batch, range)`.
    ///
    /// Chunk c draws its noise from the stream (seed, purpose, chunk c) alone and OpenBLAS runs
    /// single-threaded, so the result does not depend on `threads` to the last bit. Worker threads
    /// each own a workspace, which parallelises the elementwise work as well as the gemms.
    /// Leaves `BLAS.threads` at 1.
    public static func evaluate(
        model: StochasticNetwork, count: Int, samples: Int, seed: UInt64, purpose: RandomStream = .evaluation,
        threads: Int, fill: @Sendable (Batch, Range<Int>) -> Void
    ) -> Evaluation {
        let chunk = chunkImages(samples: samples)
        let chunks = (count + chunk - 1) / chunk
        let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(count, 1))
        let elbos = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(count, 1))
        defer {
            results.deallocate()
            elbos.deallocate()
        }
        let (out, elboOut) = (SendableBuffer(results), SendableBuffer(elbos))
        let workers = max(1, min(threads, chunks))
        // One OpenBLAS thread per worker, whatever the worker count: OpenBLAS splits a gemm
        // differently with more threads, which changes the last bits of the result. Left at 1.
        BLAS.threads = 1
        // Chunks go to whichever worker is free (a shared counter), so a slower core does fewer.
        let next = ManagedAtomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let ws = NetworkWorkspace(
                model: model, capacityImages: chunk, samples: samples, keepsLocal: false, divergence: .sampled)
            let batch = Batch(
                capacity: chunk, inputSize: model.sizes[0], outputSize: model.sizes[model.layerCount],
                targetIsInput: model.reconstructsInput)
            while true {
                let c = next.loadThenWrappingIncrement(ordering: .relaxed)
                guard c < chunks else { break }
                let range = (c * chunk)..<min(count, (c + 1) * chunk)
                fill(batch, range)
                var rng = Xoshiro256(seed: seed, purpose: purpose, chunk: c)
                ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false)
                for (k, i) in range.enumerated() {
                    out.buffer[i] = ws.imageLoss[k]
                    var sum = 0.0
                    for r in (k * samples)..<((k + 1) * samples) { sum += Double(ws.rowLoss[r]) }
                    elboOut.buffer[i] = sum / Double(samples)
                }
            }
        }
        let nll = MeanWithError(Array(results.prefix(count)))
        return Evaluation(
            nll: nll.mean, standardError: nll.standardError, samples: samples, images: count, perImage: nll.values,
            elbo: model.prior == nil ? nil : MeanWithError(Array(elbos.prefix(count))))
    }
}

/// Disjoint-index writes from worker threads into one result buffer.
struct SendableBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Double>
    init(_ buffer: UnsafeMutableBufferPointer<Double>) { self.buffer = buffer }
}
