import SBNOptions

/// `vae`: the discrete-latent VAE of Jang et al. 2017 §4.2. Encoder q(z | x): the image (784) →
/// deterministic hidden layers → the logits of one stochastic layer (Bernoulli, or categorical
/// groups); decoder p(x | z): → hidden layers → 784 Bernoulli logits; prior p(z) uniform or
/// learned. The loss of a sample is −log p(x | z) − log p(z) + log q(z | x) (`LatentPrior`), so
/// the m = 1 objective is −ELBO and the m-sample one the importance-weighted bound (Burda et al.
/// 2016). Written `layers: [784, {categorical: [20, 10]}, 784]` with `model: {family: vae, …}`.
///
/// The paper leaves the networks open. `encoder_hidden`/`decoder_hidden` default to Jang's own
/// notebook (ericjang/gumbel-softmax: 784-512-256-z-256-512-784, ReLU); `[]` and `[]` give the
/// "linear" 784-200-784 VAE of REBAR, RELAX and DisARM.
public enum VAEFamily: ModelFamily {
    public struct Options: ComponentOptions {
        /// Widths of the encoder's deterministic hidden layers, input side first.
        public var encoderHidden = [512, 256]
        /// Widths of the decoder's deterministic hidden layers, latent side first.
        public var decoderHidden = [256, 512]
        /// The nonlinearity between them.
        public var activation = Activation.relu
        /// p(z): `uniform` or `learned` (factorised logits).
        public var prior = LatentPrior.Kind.uniform
        /// The prior term: `sampled` (log q − log p at the sample, the paper's form) or `analytic`
        /// (the closed-form KL, Jang's notebook; m = 1 only).
        public var kl = LatentPrior.Divergence.sampled
        public init() {}
    }

    public static let name = "vae"
    public static let summary =
        "discrete-latent VAE: encoder → one stochastic layer → decoder, the whole digit (Jang et al. 2017 §4.2)"
    public static let task = Task.fullImage

    public static func problem(layers: Architecture, options: Options, trainingSamples: Int) -> (path: String, message: String)? {
        if let size = sizeProblem(layers, "the image") { return size }
        guard layers.hidden.count == 1 else {
            return ("layers", "a vae has one stochastic layer ([784, latent, 784]), got \(layers.hidden.count)")
        }
        for (key, widths) in [("model.encoder_hidden", options.encoderHidden), ("model.decoder_hidden", options.decoderHidden)] {
            if let bad = widths.first(where: { $0 < 1 || $0 > BernoulliUnits.maxWidth }) {
                return (key, "expected widths from 1 to \(BernoulliUnits.maxWidth), got \(bad)")
            }
            if widths.count > 8 { return (key, "expected at most 8 hidden layers, got \(widths.count)") }
        }
        if options.kl == .analytic && trainingSamples > 1 {
            return (
                "model.kl",
                "analytic KL is the m = 1 objective; the m-sample bound (samples.train = \(trainingSamples)) needs kl: sampled"
            )
        }
        return nil
    }

    public static func architecture(layers: Architecture, options: Options) -> (Architecture, LatentPrior?) {
        let architecture = Architecture(
            input: layers.input, hidden: layers.hidden, output: layers.output,
            mapHidden: [options.encoderHidden, options.decoderHidden], activation: options.activation)
        return (architecture, LatentPrior(kind: options.prior, divergence: options.kl))
    }
}
