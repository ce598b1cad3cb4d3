import SBNDistributions
import SBNModel
import SBNTensor

/// What VIMCO and REINFORCE-LOO share: m ≥ 2 exact samples per image, the decoder's pathwise
/// gradient, a learning signal for each sample computed from the others (`signal`), and the
/// score-function pass of the hidden layers with it.
final class LeaveOneOutSignals {
    let model: any LatentModel
    /// One learning signal per row (image b, sample i at b·m + i).
    let signal: UnsafeMutableBufferPointer<Float>

    init(model: any LatentModel) {
        self.model = model
        signal = .allocate(capacity: model.capacityImages * model.samples)
    }

    deinit { signal.deallocate() }

    /// Samples, backpropagates the decoder (with the multi-sample bound's posterior weights, or
    /// 1/m each when `uniformWeights`), fills `signal` image by image, and runs the score-function
    /// pass. Returns the batch-mean multi-sample loss.
    func estimate(
        _ batch: Batch, grads: ParameterSet, uniformWeights: Bool, using rng: inout Xoshiro256,
        signals: (_ image: Int) -> Void
    ) -> Double {
        let ws = model
        let loss = ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng)
        if uniformWeights { for r in 0..<ws.rowCount { ws.rowWeight[r] = 1 / Float(ws.samples) } }
        ws.backwardDecoder(grads: grads)
        for b in 0..<ws.imageCount { signals(b) }
        ws.backwardScoreFunction(batch, signal: UnsafeBufferPointer(signal), grads: grads)
        return loss
    }
}
