import SBNTensor

/// Convolutional layers in front of a network's first map: the image (side S, one channel) →
/// 3 × 3 convolutions of stride 2 and zero padding 1, each followed by the network's activation
/// (ReLU in M2; S → ⌈S/2⌉ per layer:
/// 28 → 14 → 7 → 4) → the flattened feature maps, which the first map's dense layers read instead
/// of the pixels. The paper's §4.3 networks are "small CNNs" of unstated sizes (Jang et al. 2017
/// appendix A: encoders of three conv layers); here only M2's classifier q(y | x) has them.
///
/// Each convolution is im2col + one gemm over the batch (Chellapilla et al. 2006): the patches of
/// every output position are the rows of `col` ((images · P) × k²·C_in, P = S′² positions), the
/// kernel is a (k²·C_in) × C_out matrix, and their product is the layer's output in
/// height-width-channel order, (images · P) × C_out, which is exactly images × (P · C_out): the
/// next layer's input. Forward and the input gradient are row-wise (parts of the batch); kernel
/// gradients sum over every row and are cut by output channels, so that, as in `DenseMap`, the
/// result does not depend on the thread count.
public struct ConvStack: @unchecked Sendable {
    /// The layers' output channels, e.g. [32, 64, 128].
    public struct Spec: Sendable, Equatable, CustomStringConvertible {
        public var channels: [Int]
        public static let kernel = 3, stride = 2, padding = 1
        public init(channels: [Int]) { self.channels = channels }
        public var description: String { "conv[" + channels.map(String.init).joined(separator: "-") + "]" }

        /// Per layer i, its input side (sides[0] = the image's) and, after the last, the output side.
        public static func sides(image: Int, layers: Int) -> [Int] {
            var sides = [image]
            for _ in 0..<layers { sides.append((sides.last! + 2 * padding - kernel) / stride + 1) }
            return sides
        }

        /// The flattened width of the last feature maps for a square image of `input` pixels.
        public func outputWidth(input: Int) -> Int {
            let side = Self.sides(image: Self.side(of: input) ?? 0, layers: channels.count).last!
            return side * side * (channels.last ?? 1)
        }

        /// Kernels and biases: Σ (k²·C_in + 1)·C_out.
        public var parameterCount: Int {
            zip([1] + channels.dropLast(), channels).reduce(0) { $0 + (Self.kernel * Self.kernel * $1.0 + 1) * $1.1 }
        }

        /// Per image, the floats of one layer's patches and outputs summed over the layers (the
        /// scratch holds each twice, with its gradient).
        public func bufferUnits(input: Int) -> Int {
            let sides = Self.sides(image: Self.side(of: input) ?? 0, layers: channels.count)
            return zip([1] + channels.dropLast(), channels).enumerated().reduce(0) { total, layer in
                let positions = sides[layer.offset + 1] * sides[layer.offset + 1]
                return total + positions * (Self.kernel * Self.kernel * layer.element.0 + layer.element.1)
            }
        }

        /// The side of a square one-channel image of `pixels` pixels, or nil.
        public static func side(of pixels: Int) -> Int? {
            let s = Int(Double(pixels).squareRoot().rounded())
            return s * s == pixels && s > 0 ? s : nil
        }
    }

    public let spec: Spec
    public let activation: Activation
    /// Per layer: input side, output side, input channels, output channels.
    let sides: [Int], inChannels: [Int]
    public let kernels: [Matrix], biases: [Matrix]
    let kernelIndex: [Int]
    let channelBoundary: [Int]

    var depth: Int { spec.channels.count }
    var patch: Int { Spec.kernel * Spec.kernel }
    /// Output positions of layer i.
    func positions(_ i: Int) -> Int { sides[i + 1] * sides[i + 1] }
    public var outputWidth: Int { positions(depth - 1) * spec.channels[depth - 1] }

    /// Kernel `Wconv_<i>` ((k²·C_in) × C_out, rows in (kernel row, kernel column, input channel)
    /// order) and bias `bconv_<i>` of each layer.
    static func parameterLayout(_ spec: Spec) -> [(name: String, rows: Int, cols: Int)] {
        let inputs = [1] + spec.channels.dropLast()
        return spec.channels.indices.flatMap { i -> [(name: String, rows: Int, cols: Int)] in
            [
                ("Wconv_\(i + 1)", Spec.kernel * Spec.kernel * inputs[i], spec.channels[i]),
                ("bconv_\(i + 1)", 1, spec.channels[i]),
            ]
        }
    }

    static func tensorCount(_ spec: Spec) -> Int { 2 * spec.channels.count }

    init(spec: Spec, input: Int, activation: Activation, parameters: ParameterSet, firstIndex: Int) {
        self.spec = spec
        self.activation = activation
        sides = Spec.sides(image: Spec.side(of: input)!, layers: spec.channels.count)
        inChannels = [1] + spec.channels.dropLast()
        kernelIndex = spec.channels.indices.map { firstIndex + 2 * $0 }
        kernels = kernelIndex.map { parameters.tensors[$0] }
        biases = kernelIndex.map { parameters.tensors[$0 + 1] }
        channelBoundary = spec.channels.map { PartRunner.boundary($0, align: 16) }
    }

    /// The fan-in of each tensor in layout order (k²·C_in for a kernel and its bias), for
    /// PyTorch's default U(±1/√fan_in) initialisation.
    var fanIns: [Int] { inChannels.flatMap { [patch * $0, patch * $0] } }

    /// Patches, outputs (after ReLU) and their gradients for up to `images` images.
    public final class Scratch: @unchecked Sendable {
        let col: [Matrix], out: [Matrix], gradOut: [Matrix], gradCol: [Matrix]
        let positions: [Int]
        init(_ stack: ConvStack, images: Int) {
            let positions = (0..<stack.depth).map(stack.positions)
            self.positions = positions
            col = (0..<stack.depth).map { Matrix(rows: images * positions[$0], cols: stack.patch * stack.inChannels[$0]) }
            out = (0..<stack.depth).map { Matrix(rows: images, cols: positions[$0] * stack.spec.channels[$0]) }
            gradOut = out.map { Matrix(rows: $0.rows, cols: $0.cols) }
            gradCol = col.map { Matrix(rows: $0.rows, cols: $0.cols) }
        }
        func setRows(images: Int) {
            for (i, p) in positions.enumerated() {
                col[i].setRows(images * p)
                gradCol[i].setRows(images * p)
                out[i].setRows(images)
                gradOut[i].setRows(images)
            }
        }
        /// The last layer's feature maps (images × outputWidth): the first map's input.
        public var features: Matrix { out[out.count - 1] }
        /// Their gradient, which the first map's backward pass fills.
        public var gradFeatures: Matrix { gradOut[gradOut.count - 1] }
    }

    public func makeScratch(images: Int) -> Scratch { Scratch(self, images: images) }

    /// The features of `images` (rows of `input`, the pixels in row-major order).
    public func forward(_ input: Matrix, images: Range<Int>, scratch s: Scratch) {
        for i in 0..<depth {
            let x = i == 0 ? input : s.out[i - 1], p = positions(i), cout = spec.channels[i]
            let rows = (images.lowerBound * p)..<(images.upperBound * p)
            for image in images { im2col(x.row(image), layer: i, into: s.col[i].row(image * p)) }
            let y = outputView(s.out[i], layer: i, rows: rows)
            for r in 0..<y.rows { y.row(r).update(from: biases[i].pointer, count: cout) }
            BLAS.gemm(s.col[i].view(rows: rows), kernels[i].view, into: y, beta: 1)
            activation.apply(s.out[i].row(images.lowerBound), count: images.count * s.out[i].cols)
        }
    }

    /// The backward pass from `scratch.gradFeatures` (∂loss/∂features, every row filled): kernel
    /// and bias gradients into `grads`. One `runner.run` per layer, as the kernel gradient needs
    /// every row of the layer's output gradient.
    public func backward(
        scratch s: Scratch, grads: ParameterSet, runner: PartRunner, imageRange: (Int) -> Range<Int>
    ) {
        runner.run { part in activationBackward(s, layer: depth - 1, images: imageRange(part)) }
        for i in stride(from: depth - 1, through: 0, by: -1) {
            let p = positions(i), cout = spec.channels[i]
            runner.run { part in
                let channels = PartRunner.range(part, of: cout, boundary: channelBoundary[i])
                let g = outputView(s.gradOut[i], layer: i, rows: 0..<(s.gradOut[i].rows * p))
                let gc = MatrixView(base: g.base + channels.lowerBound, rows: g.rows, cols: channels.count, stride: cout)
                let gw = grads.tensors[kernelIndex[i]], gb = grads.tensors[kernelIndex[i] + 1]
                BLAS.gemm(s.col[i].view, transposeA: true, gc, into: gw.view(columns: channels), beta: 1)
                Kernels.accumulateColumnSums(of: gc, into: gb.pointer + channels.lowerBound, count: channels.count)
                guard i > 0 else { return }
                let images = imageRange(part), rows = (images.lowerBound * p)..<(images.upperBound * p)
                BLAS.gemm(
                    outputView(s.gradOut[i], layer: i, rows: rows), kernels[i].view, transposeB: true,
                    into: s.gradCol[i].view(rows: rows))
                for image in images { col2im(s.gradCol[i].row(image * p), layer: i, into: s.gradOut[i - 1].row(image)) }
                activationBackward(s, layer: i - 1, images: images)
            }
        }
    }

    /// Layer i's output rows as (images · P) × C_out: the same memory as images × (P · C_out).
    func outputView(_ m: Matrix, layer i: Int, rows: Range<Int>) -> MatrixView {
        let cout = spec.channels[i]
        return MatrixView(base: m.pointer + rows.lowerBound * cout, rows: rows.count, cols: cout, stride: cout)
    }

    /// Layer i's output gradient turned into its pre-activation gradient, for `images`.
    func activationBackward(_ s: Scratch, layer i: Int, images: Range<Int>) {
        let offset = images.lowerBound * s.out[i].cols
        activation.backward(s.gradOut[i].pointer + offset, values: s.out[i].pointer + offset, count: images.count * s.out[i].cols)
    }

    /// One image's patches: row (oy, ox) holds input[(oy·s − p + ky, ox·s − p + kx, c)] for every
    /// (ky, kx, c), zero outside the image.
    func im2col(_ x: UnsafePointer<Float>, layer i: Int, into col: UnsafeMutablePointer<Float>) {
        forEachTap(layer: i) { row, tap, source in col[row + tap] = source.map { x[$0] } ?? 0 }
    }

    /// The adjoint of `im2col`: every patch entry's gradient added to the input position it read.
    func col2im(_ col: UnsafePointer<Float>, layer i: Int, into g: UnsafeMutablePointer<Float>) {
        g.update(repeating: 0, count: sides[i] * sides[i] * inChannels[i])
        forEachTap(layer: i) { row, tap, source in if let source { g[source] += col[row + tap] } }
    }

    /// For each output position's patch row (its offset in `col`) and each tap in it (the offset
    /// within the row), the input element it reads (nil: padding).
    @inline(__always)
    func forEachTap(layer i: Int, _ body: (Int, Int, Int?) -> Void) {
        let side = sides[i], out = sides[i + 1], cin = inChannels[i], k = Spec.kernel, width = patch * cin
        for oy in 0..<out {
            for ox in 0..<out {
                let row = (oy * out + ox) * width
                for ky in 0..<k {
                    let iy = oy * Spec.stride - Spec.padding + ky
                    for kx in 0..<k {
                        let ix = ox * Spec.stride - Spec.padding + kx, tap = (ky * k + kx) * cin
                        let inside = iy >= 0 && iy < side && ix >= 0 && ix < side
                        for c in 0..<cin { body(row, tap + c, inside ? (iy * side + ix) * cin + c : nil) }
                    }
                }
            }
        }
    }
}
