import Foundation
import SBNModel
import SBNTensor
import Testing

/// `ConvStack` (M2's CNN classifier) computes convolutions: its features equal a direct
/// six-loop convolution with zero padding, stride 2 and the activation (tanh here); and its gradients do not depend on
/// the thread count. Its gradient against finite differences is in `SemiSupervisedTests`.
@Suite struct ConvolutionTests {
    /// Features of the tiny M2's classifier (5 × 5 image, channels [2, 3]) against the direct sum
    /// out[oy, ox, o] = tanh(b_o + Σ_{ky, kx, c} in[2oy − 1 + ky, 2ox − 1 + kx, c] · W[(ky, kx, c), o]).
    @Test func featuresAreTheDirectConvolution() throws {
        let m2 = TinyM2(divergence: .analytic, conv: [2, 3])
        let conv = try #require(m2.model.conv)
        let ws = NetworkWorkspace(model: m2.model, capacityImages: m2.batch.count)
        ws.computeFirstLogits(m2.batch)
        let features = try #require(ws.convScratch).features
        for image in 0..<m2.batch.count {
            var x = (0..<25).map { Double(m2.batch.input[image, $0]) }, side = 5, channels = 1
            for (layer, outChannels) in [2, 3].enumerated() {
                let out = (side + 1) / 2
                var y = [Double](repeating: 0, count: out * out * outChannels)
                for oy in 0..<out {
                    for ox in 0..<out {
                        for o in 0..<outChannels {
                            var sum = Double(conv.biases[layer][0, o])
                            for ky in 0..<3 {
                                for kx in 0..<3 {
                                    let iy = 2 * oy - 1 + ky, ix = 2 * ox - 1 + kx
                                    guard (0..<side).contains(iy), (0..<side).contains(ix) else { continue }
                                    for c in 0..<channels {
                                        sum +=
                                            x[(iy * side + ix) * channels + c]
                                            * Double(conv.kernels[layer][(ky * 3 + kx) * channels + c, o])
                                    }
                                }
                            }
                            y[(oy * out + ox) * outChannels + o] = tanh(sum)
                        }
                    }
                }
                (x, side, channels) = (y, out, outChannels)
            }
            #expect(x.count == features.cols)
            #expect(x.contains { abs($0) > 0.1 }, "the features must not vanish for the check to mean anything")
            for (j, v) in x.enumerated() {
                #expect(abs(Double(features[image, j]) - v) < 1e-5, "image \(image), feature \(j)")
            }
        }
    }

    /// One worker and two give the same logits and the same gradient, to the bit.
    @Test func oneAndTwoWorkersGiveTheSameBits() {
        func gradient(_ runner: PartRunner) -> [UInt32] {
            let m2 = TinyM2(divergence: .analytic, images: 7, conv: [2, 3])
            let ws = NetworkWorkspace(model: m2.model, capacityImages: 7, runner: runner)
            return m2.pathwiseGradient(ws, seed: 66).tensors.flatMap { $0.buffer.map(\.bitPattern) }
        }
        #expect(gradient(.serial) == gradient(PartRunner(workers: 2)))
    }
}
