import SBNData
import SBNDistributions
import SBNModel
import SBNTensor

/// The discrete VAE's figure (Jang et al. 2017 §4.2; Jang's notebook draws the same panels):
/// (a) test digits beside reconstructions, each the decoder's mean p(x | z) for a z drawn from
///     q(z | x) (one column per draw);
/// (b) digits decoded from z drawn from the prior p(z);
/// (c) for categorical latents, a test digit's code (the most probable class of every variable)
///     with one 10-way variable set to each of its classes in turn, one row per variable varied.
/// Pixels are grey levels of the decoder's Bernoulli means (test digits in black and white).
public struct VAEFigure {
    public let model: StochasticNetwork
    public let scale: Int
    let side = ImageHalves.side, gap = 2

    public init(model: StochasticNetwork, scale: Int = 2) {
        precondition(model.reconstructsInput && model.layerCount == 2, "VAEFigure: a VAE (one stochastic layer) is needed")
        self.model = model
        self.scale = scale
    }

    var cell: Int { side * scale }

    /// Renders `count` test digits (`images`: count × 784 of 0/1) with `draws` reconstructions each,
    /// `prior` digits from the prior, and (categorical latents) `variables` rows of the class grid.
    public func render(images: [UInt8], count: Int, draws: Int, prior: Int, variables: Int, seed: UInt64) -> Canvas {
        var rng = Xoshiro256(seed: seed, purpose: .evaluation)
        let categorical = model.layer(1) as? CategoricalUnits
        let gridRows = categorical.map { min(variables, $0.groups) } ?? 0
        let gridColumns = categorical?.classes ?? 0
        let priorColumns = max(draws + 1, gridColumns)
        let priorRows = (prior + priorColumns - 1) / priorColumns
        let columns = max(draws + 1, priorColumns)
        let title = 20
        let width = columns * (cell + gap) + gap
        let height = 3 * title + (count + priorRows + gridRows) * (cell + gap) + 2 * gap
        var canvas = Canvas(width: width, height: height, background: (64, 64, 64))

        canvas.text("TEST DIGIT, RECONSTRUCTIONS (Z FROM Q)", x: gap, y: 4, scale: 1, (255, 255, 255))
        var y = title
        let recon = reconstructions(images: images, count: count, draws: draws, rng: &rng)
        for n in 0..<count {
            paint(&canvas, x: gap, y: y) { Float(images[n * ImageHalves.pixels + $0]) }
            for d in 0..<draws {
                paint(&canvas, x: gap + (d + 1) * (cell + gap), y: y) { recon[(n * draws + d) * ImageHalves.pixels + $0] }
            }
            y += cell + gap
        }
        canvas.text("DECODED FROM PRIOR SAMPLES", x: gap, y: y + 4, scale: 1, (255, 255, 255))
        y += title
        let decoded = decode(priorSamples(prior, rng: &rng))
        for i in 0..<prior {
            paint(&canvas, x: gap + (i % priorColumns) * (cell + gap), y: y + (i / priorColumns) * (cell + gap)) {
                decoded[i * ImageHalves.pixels + $0]
            }
        }
        y += priorRows * (cell + gap)
        if let categorical, gridRows > 0 {
            canvas.text("ONE VARIABLE PER ROW, SET TO EACH CLASS", x: gap, y: y + 4, scale: 1, (255, 255, 255))
            y += title
            let grid = decode(classGrid(images: images, units: categorical, rows: gridRows))
            for i in 0..<(gridRows * gridColumns) {
                paint(&canvas, x: gap + (i % gridColumns) * (cell + gap), y: y + (i / gridColumns) * (cell + gap)) {
                    grid[i * ImageHalves.pixels + $0]
                }
            }
        }
        return canvas
    }

    private func paint(_ canvas: inout Canvas, x: Int, y: Int, _ value: (Int) -> Float) {
        for p in 0..<ImageHalves.pixels {
            let v = UInt8(max(0, min(255, (value(p) * 255).rounded())))
            canvas.fill(x: x + (p % side) * scale, y: y + (p / side) * scale, width: scale, height: scale, (v, v, v))
        }
    }

    /// Decoder means for `draws` codes z ~ q(z | x) per digit, flattened (digit, draw, pixel).
    private func reconstructions(images: [UInt8], count: Int, draws: Int, rng: inout Xoshiro256) -> [Float] {
        let ws = NetworkWorkspace(model: model, capacityImages: count, samples: draws, keepsLocal: false, divergence: .sampled)
        let batch = Batch(capacity: count, inputSize: ImageHalves.pixels, outputSize: ImageHalves.pixels, targetIsInput: true)
        batch.setRows(count)
        images.withUnsafeBufferPointer { for r in 0..<count { FullImages.copy(image: r, from: $0, toRow: r, of: batch.input) } }
        ws.forward(batch, surrogate: .exact, temperature: 1, using: &rng, outputGradient: false)
        return ws.logits[2].buffer.map { FastMath.sigmoid($0) }
    }

    /// n codes drawn from the prior p(z) (its logits, one row repeated).
    private func priorSamples(_ n: Int, rng: inout Xoshiro256) -> Matrix {
        let units = model.layer(1), width = units.width
        let logits = Matrix(rows: n, cols: width), noise = Matrix(rows: n, cols: width), values = Matrix(rows: n, cols: width)
        let prior = model.priorLogits(1)!
        for r in 0..<n { logits.row(r).update(from: prior.pointer, count: width) }
        Uniform.sample(into: noise, using: &rng)
        units.sample(
            .exact, logits: logits.pointer, noise: noise.pointer, values: values.pointer, local: nil, rows: n, temperature: 1)
        return values
    }

    /// The first digit's most probable code, with variable g (row g) set to each class (column).
    private func classGrid(images: [UInt8], units: CategoricalUnits, rows: Int) -> Matrix {
        let input = Matrix(rows: 1, cols: ImageHalves.pixels), logits = Matrix(rows: 1, cols: units.width)
        for p in 0..<ImageHalves.pixels { input.storage[p] = Float(images[p]) }
        model.maps[1].forward(input, rows: 0..<1, into: logits, scratch: model.maps[1].makeScratch(rows: 1))
        let codes = Matrix(rows: rows * units.classes, cols: units.width)
        for r in 0..<codes.rows {
            let row = codes.row(r)
            for g in 0..<units.groups {
                let a = logits.pointer + g * units.classes
                let best = (0..<units.classes).max { a[$0] < a[$1] }!
                row[g * units.classes + (g == r / units.classes ? r % units.classes : best)] = 1
            }
        }
        return codes
    }

    /// Decoder means σ(map_2(z)) for each row of `codes`, flattened.
    private func decode(_ codes: Matrix) -> [Float] {
        let out = Matrix(rows: codes.rows, cols: ImageHalves.pixels)
        model.maps[2].forward(codes, rows: 0..<codes.rows, into: out, scratch: model.maps[2].makeScratch(rows: codes.rows))
        return out.buffer.map { FastMath.sigmoid($0) }
    }
}
