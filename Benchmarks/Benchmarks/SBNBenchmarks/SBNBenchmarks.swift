import Foundation
import Benchmark
import SBNLab

/// Synthetic binary images with the task's shapes (the speed does not depend on the pixel values).
func syntheticBatch(images: Int, seed: UInt64) -> Batch {
    var rng = Xoshiro256(seed: seed)
    let batch = Batch(capacity: images, inputSize: 392, outputSize: 392)
    for m in [batch.input, batch.target] { for i in 0..<m.count { m.storage[i] = rng.nextUniform() < 0.13 ? 1 : 0 } }
    return batch
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .throughput, .mallocCountTotal], maxDuration: .seconds(3))
    BLAS.threads = 1

    // One training step (estimate + Adam) at batch 100 of the paper's 392-200-200-392 network,
    // Bernoulli and categorical (20×10) layers, on one thread and on two (the workspace's parts).
    // Malloc count must be 0 on one thread: the step loop must not allocate. (`sbnlab bench`
    // measures the speed of real epochs.)
    let categorical = Architecture(
        input: 392, hidden: [CategoricalUnits(groups: 20, classes: 10), CategoricalUnits(groups: 20, classes: 10)],
        output: 392)
    for (label, architecture) in [("", Architecture.bernoulli([392, 200, 200, 392])), (", categorical 20x10", categorical)] {
        let names = EstimatorRegistry.registry.names.filter { n in
            architecture.hidden.allSatisfy { EstimatorRegistry.registry.lookup(n)!.supports($0) }
        }
        for (name, workers) in names.flatMap({ n in [(n, 1), (n, 2)] }) {
            Benchmark("train-step/\(name)\(label) B=100, \(workers) thread(s)") { benchmark in
                var rng = Xoshiro256(seed: 1)
                let model = StochasticNetwork(architecture: architecture, rng: &rng)
                let type = EstimatorRegistry.registry.lookup(name)!
                // The smallest objective each estimator takes (VIMCO needs m = 2).
                let ws = NetworkWorkspace(
                    model: model, capacityImages: 100, samples: type.minTrainingSamples,
                    runner: PartRunner(workers: workers))
                let estimator = try type.make(model: ws, options: AnyOptions(type.optionsType.init()))
                let grads = model.makeGradients()
                let adam = Adam(parameters: model.parameters, learningRate: 1e-3)
                let batch = syntheticBatch(images: 100, seed: 2)
                let context = StepContext(step: 0, temperature: 1, learningRate: 1e-3)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(estimator.estimate(batch, grads: grads, context: context, using: &rng))
                    // The optimizer checks and zeroes the gradients.
                    blackHole(adam.step(model.parameters, gradients: grads, runner: ws.runner))
                }
            }
        }
    }

    // One training step of the mlp VAE (784-512-256-z-256-512-784, vae-cat-gs.yaml), Bernoulli
    // 200 and categorical 20×10 latents, with the sampled prior term: malloc count 0 on one thread.
    for (label, units) in [
        ("bernoulli 200", BernoulliUnits(width: 200) as any StochasticUnits),
        ("categorical 20x10", CategoricalUnits(groups: 20, classes: 10)),
    ] {
        for (name, workers) in ["gs", "st-gs", "reinforce", "muprop", "disarm"].flatMap({ n in [(n, 1), (n, 2)] })
        where EstimatorRegistry.registry.lookup(name)!.supports(units) {
            Benchmark("vae-train-step/\(name), \(label) B=100, \(workers) thread(s)") { benchmark in
                var rng = Xoshiro256(seed: 1)
                let model = VAEFamily.network(
                    layers: Architecture(input: 784, hidden: [units], output: 784),
                    options: AnyOptions(VAEFamily.Options()), rng: &rng)
                let type = EstimatorRegistry.registry.lookup(name)!
                let ws = NetworkWorkspace(model: model, capacityImages: 100, runner: PartRunner(workers: workers))
                let estimator = try type.make(model: ws, options: AnyOptions(type.optionsType.init()))
                let grads = model.makeGradients()
                let adam = Adam(parameters: model.parameters, learningRate: 1e-3)
                let batch = Batch(capacity: 100, inputSize: 784, outputSize: 784, targetIsInput: true)
                for i in 0..<batch.input.count { batch.input.storage[i] = rng.nextUniform() < 0.13 ? 1 : 0 }
                let context = StepContext(step: 0, temperature: 1, learningRate: 1e-3)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    blackHole(estimator.estimate(batch, grads: grads, context: context, using: &rng))
                    blackHole(adam.step(model.parameters, gradients: grads, runner: ws.runner))
                }
            }
        }
    }

    // Evaluation: 40 images × m = 100 hard samples (one chunk), single thread.
    Benchmark("eval-chunk/40 images x m=100") { benchmark in
        var rng = Xoshiro256(seed: 1)
        let model = StochasticNetwork(sizes: [392, 200, 200, 392], rng: &rng)
        let ws = NetworkWorkspace(model: model, capacityImages: 40, samples: 100)
        let batch = syntheticBatch(images: 40, seed: 3)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false))
        }
    }

    // Full-scale evaluation throughput with both cores: 1000 images × m = 1000.
    Benchmark("eval/1000 images x m=1000, 2 threads", configuration: .init(maxDuration: .seconds(20), maxIterations: 3)) {
        benchmark in
        var rng = Xoshiro256(seed: 1)
        let model = StochasticNetwork(sizes: [392, 200, 200, 392], rng: &rng)
        let source = syntheticBatch(images: 1000, seed: 4)
        let top = source.input.values, bottom = source.target.values
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let e = Evaluator.evaluate(model: model, count: 1000, samples: 1000, seed: 5, threads: 2) { batch, range in
                batch.input.setRows(range.count)
                batch.target.setRows(range.count)
                for (r, i) in range.enumerated() {
                    for j in 0..<392 { batch.input[r, j] = top[i * 392 + j]; batch.target[r, j] = bottom[i * 392 + j] }
                }
            }
            blackHole(e.nll)
        }
    }

    // Building blocks.
    Benchmark("gemm/4000x200x392", configuration: .init(scalingFactor: .one)) { benchmark in
        let a = Matrix(rows: 4000, cols: 200), b = Matrix(rows: 200, cols: 392), c = Matrix(rows: 4000, cols: 392)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { BLAS.gemm(a, b, into: c) }
    }

    Benchmark("kernels/logistic noise 1M", configuration: .init(scalingFactor: .one)) { benchmark in
        var rng = Xoshiro256(seed: 1)
        let m = Matrix(rows: 1000, cols: 1000)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { Logistic.sample(into: m, using: &rng) }
    }

    Benchmark("kernels/uniform 1M", configuration: .init(scalingFactor: .one)) { benchmark in
        var rng = Xoshiro256(seed: 1)
        let m = Matrix(rows: 1000, cols: 1000)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { Uniform.sample(into: m, using: &rng) }
    }

    // What TensorBoard logging adds per training row (every log_every steps): four scalar events
    // encoded and written as TFRecords (RunEvents.train). mallocCountTotal must stay 0.
    Benchmark("events/train row: 4 scalars encoded and written", configuration: .init(scalingFactor: .one, maxIterations: 20_000))
    { benchmark in
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sbnlab-bench-events-\(getpid())").path
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        guard let writer = try? EventFileWriter(directory: dir, wallTime: 0, warn: { print($0) }) else { return }
        var buffer = ProtoBuffer(capacity: 512)
        let tags = ["train/loss", "train/temperature", "train/learning_rate", "train/examples_per_second"].map { Array($0.utf8) }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            for tag in tags {
                EventEncoding.scalar(tag: tag, value: 63.25, step: Int64(i), wallTime: 1.7e9, into: &buffer)
                writer.write(buffer.bytes)
            }
        }
        benchmark.stopMeasurement()  // before the deferred clean-up, which allocates
    }

    Benchmark("kernels/bernoulli NLL 2500x392", configuration: .init(scalingFactor: .one)) { benchmark in
        let logits = Matrix(rows: 2500, cols: 392), targets = Matrix(rows: 2500, cols: 392)
        let nll = UnsafeMutableBufferPointer<Float>.allocate(capacity: 2500)
        defer { nll.deallocate() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { Kernels.bernoulliNLL(logits: logits, targets: targets, nll: nll) }
    }
}
