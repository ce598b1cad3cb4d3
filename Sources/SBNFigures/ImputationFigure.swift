import SBNData
import SBNDistributions
import SBNModel
import SBNTensor

/// The structured-prediction figure of Raiko et al. 2014 (Fig. 2): for each test digit a row of
/// cells — the true image, then k samples of the bottom half drawn from the SBN given the top half.
/// Given pixels are drawn white on black; sampled pixels white on dark blue; a red line marks the
/// split at row 14.
public struct ImputationFigure {
    public let model: StochasticNetwork
    public let scale: Int

    public init(model: StochasticNetwork, scale: Int = 3) {
        self.model = model
        self.scale = scale
    }

    /// Renders `images` (N × 784 of 0/1) with `samples` imputations each; returns (width, height, rgb).
    public func render(images: [UInt8], count: Int, samples: Int, seed: UInt64) -> (width: Int, height: Int, rgb: [UInt8]) {
        let side = ImageHalves.side, gap = 2
        let columns = samples + 1
        let cell = side * scale
        let width = columns * cell + (columns + 1) * gap, height = count * cell + (count + 1) * gap
        var rgb = [UInt8](repeating: 64, count: width * height * 3)

        let ws = NetworkWorkspace(model: model, capacityImages: count, samples: samples)
        let batch = Batch(capacity: count, inputSize: model.sizes[0], outputSize: model.sizes[model.layerCount])
        images.withUnsafeBufferPointer { ImageHalves.fill(top: batch.input, bottom: batch.target, from: $0, indices: 0..<count) }
        var rng = Xoshiro256(seed: seed, purpose: .evaluation)
        ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false)
        let bottomSamples = Matrix(rows: count * samples, cols: model.sizes[model.layerCount])
        Bernoulli(logits: ws.logits[model.layerCount]).sample(into: bottomSamples, using: &rng)

        func paint(_ x0: Int, _ y0: Int, pixel: (Int) -> (UInt8, UInt8, UInt8)) {
            for py in 0..<side {
                for px in 0..<side {
                    let (r, g, b) = pixel(py * side + px)
                    for dy in 0..<scale {
                        for dx in 0..<scale {
                            let o = ((y0 + py * scale + dy) * width + x0 + px * scale + dx) * 3
                            rgb[o] = r; rgb[o + 1] = g; rgb[o + 2] = b
                        }
                    }
                }
            }
            for dx in 0..<cell {  // the split between the halves
                let o = ((y0 + ImageHalves.bottom.lowerBound / side * scale) * width + x0 + dx) * 3
                rgb[o] = 220; rgb[o + 1] = 40; rgb[o + 2] = 40
            }
        }
        for n in 0..<count {
            let y0 = gap + n * (cell + gap)
            let image = Array(images[(n * ImageHalves.pixels)..<((n + 1) * ImageHalves.pixels)])
            paint(gap, y0) { image[$0] == 1 ? (255, 255, 255) : (0, 0, 0) }
            for s in 0..<samples {
                let row = bottomSamples.row(n * samples + s)
                paint(gap + (s + 1) * (cell + gap), y0) { p in
                    if ImageHalves.top.contains(p) { return image[p] == 1 ? (255, 255, 255) : (0, 0, 0) }
                    return row[p - ImageHalves.bottom.lowerBound] == 1 ? (255, 255, 255) : (20, 30, 90)
                }
            }
        }
        return (width, height, rgb)
    }
}
