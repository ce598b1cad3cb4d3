import Atomics
import Dispatch
import SBNDistributions
import SBNTensor

/// The test metric of Jang et al. 2017 §4.1: per image, log p(x_bottom | x_top) ≈
/// log (1/m) Σ_i p(x_bottom | h_i) with h_i drawn ancestrally with hard Bernoulli units
/// (log-sum-exp − log m), reported as a mean NLL in nats with its standard error.
public struct Evaluation: Sendable {
    public let nll: Double
    public let standardError: Double
    public let samples: Int
    public let images: Int
    /// Per-image NLL estimates, in image order.
    public let perImage: [Double]
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
    public static func evaluate(model: SBN, count: Int, samples: Int, seed: UInt64, purpose: RandomStream = .evaluation,
                                threads: Int, fill: @Sendable (Batch, Range<Int>) -> Void) -> Evaluation {
        let chunk = chunkImages(samples: samples)
        let chunks = (count + chunk - 1) / chunk
        let results = UnsafeMutableBufferPointer<Double>.allocate(capacity: max(count, 1))
        defer { results.deallocate() }
        let out = SendableBuffer(results)
        let workers = max(1, min(threads, chunks))
        // One OpenBLAS thread per worker, whatever the worker count: OpenBLAS splits a gemm
        // differently with more threads, which changes the last bits of the result. Left at 1.
        BLAS.threads = 1
        // Chunks go to whichever worker is free (a shared counter), so a slower core does fewer.
        let next = ManagedAtomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            let ws = SBNWorkspace(model: model, capacityImages: chunk, samples: samples, keepsLocal: false)
            let batch = Batch(capacity: chunk, inputSize: model.sizes[0], outputSize: model.sizes[model.layerCount])
            while true {
                let c = next.loadThenWrappingIncrement(ordering: .relaxed)
                guard c < chunks else { break }
                let range = (c * chunk)..<min(count, (c + 1) * chunk)
                fill(batch, range)
                var rng = Xoshiro256(seed: seed, purpose: purpose, chunk: c)
                ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false)
                for (k, i) in range.enumerated() { out.buffer[i] = ws.imageLoss[k] }
            }
        }
        let perImage = Array(results.prefix(count))
        let mean = perImage.reduce(0, +) / Double(max(count, 1))
        let variance = perImage.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(max(count - 1, 1))
        return Evaluation(nll: mean, standardError: (variance / Double(max(count, 1))).squareRoot(),
                          samples: samples, images: count, perImage: perImage)
    }
}

/// Disjoint-index writes from worker threads into one result buffer.
struct SendableBuffer: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Double>
    init(_ buffer: UnsafeMutableBufferPointer<Double>) { self.buffer = buffer }
}
