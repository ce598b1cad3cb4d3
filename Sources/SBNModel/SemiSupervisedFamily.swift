import SBNOptions

/// `m2`: Kingma et al. 2014's semi-supervised VAE "M2", the model of Jang et al. 2017 §4.3.
/// q(y | x): a classifier, the image (784) → hidden layers → the logits of one categorical
/// variable of K classes (`layers: [784, {categorical: [1, K]}, 784]`); q(z | x, y): a Gaussian,
/// reparameterised; p(x | y, z): Bernoulli pixels; p(y) uniform, p(z) = N(0, I). The loss of an
/// unlabelled image with y drawn (or summed out, `marginal`) is its −ELBO integrand
/// −log p(x | y, z) + KL(q(z | x, y) ‖ p(z)) + log q(y | x) − log p(y) (`GaussianBottleneck`,
/// `LatentPrior`); a labelled image's adds its classification loss (the trainer's `ssl:` options).
///
/// The paper's networks are small CNNs of unstated sizes (its appendix A); these are Kingma et
/// al. 2014's own MLPs (§4.1 of theirs: one hidden layer of 500 units in each network, z of 50),
/// with ReLU for their softplus. K is a configuration value: with K beyond the data's 10 classes
/// the extra classes are latent categories no label names (the speed experiment's K = 100).
public enum SemiSupervisedFamily: ModelFamily {
    public struct Options: ComponentOptions {
        /// Widths of q(y | x)'s hidden layers.
        public var classifierHidden = [500]
        /// Output channels of q(y | x)'s convolutions before its hidden layers (3 × 3, stride 2,
        /// padding 1, ReLU; `ConvStack`), e.g. [32, 64, 128]; empty: an MLP on the pixels.
        public var classifierConv: [Int] = []
        /// Widths of q(z | x, y)'s hidden layers (at least one: the first is split into x's and y's parts).
        public var encoderHidden = [500]
        /// Widths of p(x | y, z)'s hidden layers.
        public var decoderHidden = [500]
        /// z's size.
        public var latent = 50
        public var activation = Activation.relu
        /// z's term in training: `analytic` (Kingma et al.'s closed-form KL) or `sampled`; an
        /// evaluation always uses the sampled one (the importance-weighted bound needs it).
        public var zKl = LatentPrior.Divergence.analytic
        /// y's term in training: `sampled` (log q(y | x) − log p(y) at the drawn class, the paper's
        /// relaxed objective) or `analytic` (KL(q(y | x) ‖ p(y)), the negative entropy plus log K,
        /// exact for every estimator); an evaluation always uses the sampled one. For `marginal`
        /// the two are the same sum.
        public var yKl = LatentPrior.Divergence.sampled
        /// Labelled training images, balanced over the data's 10 classes (the paper's 100).
        public var labelled = 100
        /// Which images are labelled: drawn from this seed (the same set for every run seed).
        public var labelSeed: UInt64 = 1
        /// Labelled images per step, beside `batch_size` unlabelled ones; divides `labelled`.
        public var labelledBatch = 10
        /// The classification loss's weight α (Kingma et al. 2014 eq. 9 per image; the paper's grid
        /// {0.1, 0.2, 0.3, 0.8, 1.0}).
        public var alpha = 0.1
        /// The labelled −ELBO's weight beside the unlabelled batch's mean: `dataset` (N_L/N_U, each
        /// labelled image counted once, Kingma et al.'s sums) or `batch` (1: the labelled batch's
        /// mean weighs as much as the unlabelled one's, as minibatch implementations of M2 do).
        public var labelledWeight = LabelledWeight.dataset
        public init() {}
    }

    public enum LabelledWeight: String, Sendable, Codable, CaseIterable {
        case dataset, batch
        public init(from decoder: any Decoder) throws { self = try Choice.decode(decoder) }
    }

    public static let name = "m2"
    public static let summary =
        "semi-supervised VAE M2: classifier q(y|x), Gaussian q(z|x,y), decoder p(x|y,z) (Kingma et al. 2014; Jang et al. 2017 §4.3)"
    public static let task = Task.semiSupervised
    /// The digits' classes, which labels name (K may be larger).
    public static let dataClasses = 10

    public static func problem(layers: Architecture, options: Options, trainingSamples: Int) -> (path: String, message: String)? {
        if let size = sizeProblem(layers, "the image") { return size }
        guard layers.hidden.count == 1, let y = layers.hidden[0] as? CategoricalUnits, y.groups == 1 else {
            return ("layers", "an m2 model has one categorical class variable ([784, {categorical: [1, K]}, 784])")
        }
        for (key, widths) in [
            ("model.classifier_hidden", options.classifierHidden), ("model.encoder_hidden", options.encoderHidden),
            ("model.decoder_hidden", options.decoderHidden),
        ] {
            if let bad = widths.first(where: { $0 < 1 || $0 > BernoulliUnits.maxWidth }) {
                return (key, "expected widths from 1 to \(BernoulliUnits.maxWidth), got \(bad)")
            }
            if widths.count > 8 { return (key, "expected at most 8 hidden layers, got \(widths.count)") }
        }
        if options.encoderHidden.isEmpty {
            return (
                "model.encoder_hidden",
                "expected at least one hidden layer (its first is split into the image's and the class's parts)"
            )
        }
        if let bad = options.classifierConv.first(where: { !(1...512).contains($0) }) {
            return ("model.classifier_conv", "expected channel counts from 1 to 512, got \(bad)")
        }
        if options.classifierConv.count > 4 {
            return ("model.classifier_conv", "expected at most 4 convolutions, got \(options.classifierConv.count)")
        }
        if !options.classifierConv.isEmpty && ConvStack.Spec.side(of: layers.input) == nil {
            return ("model.classifier_conv", "convolutions need a square one-channel image, got \(layers.input) pixels")
        }
        guard (1...1024).contains(options.latent) else { return ("model.latent", "expected 1 to 1024, got \(options.latent)") }
        guard y.classes >= dataClasses else {
            return ("layers", "the class variable needs at least the data's \(dataClasses) classes, got \(y.classes)")
        }
        guard options.labelled >= dataClasses, options.labelled % dataClasses == 0, options.labelled <= 50_000 else {
            return (
                "model.labelled",
                "expected a multiple of the \(dataClasses) classes (balanced labels) up to 50000, got \(options.labelled)"
            )
        }
        guard options.labelledBatch >= 1, options.labelled % options.labelledBatch == 0 else {
            return (
                "model.labelled_batch", "expected a divisor of model.labelled (\(options.labelled)), got \(options.labelledBatch)"
            )
        }
        guard options.alpha.isFinite, options.alpha >= 0, options.alpha <= 1e6 else {
            return ("model.alpha", "expected a weight from 0 to 1e6, got \(options.alpha)")
        }
        for (key, divergence) in [("model.z_kl", options.zKl), ("model.y_kl", options.yKl)] where divergence == .analytic {
            if trainingSamples > 1 {
                return (
                    key,
                    "the analytic KL is the m = 1 objective; samples.train = \(trainingSamples) needs \(key.dropFirst(6)): sampled"
                )
            }
        }
        return nil
    }

    public static func architecture(layers: Architecture, options: Options) -> (Architecture, LatentPrior?) {
        let gaussian = GaussianBottleneck.Spec(
            latent: options.latent, encoderHidden: options.encoderHidden, decoderHidden: options.decoderHidden,
            divergence: options.zKl)
        let architecture = Architecture(
            input: layers.input, hidden: layers.hidden, output: layers.output, mapHidden: [options.classifierHidden, []],
            activation: options.activation, gaussian: gaussian,
            conv: options.classifierConv.isEmpty ? nil : ConvStack.Spec(channels: options.classifierConv))
        return (architecture, LatentPrior(kind: .uniform, divergence: options.yKl))
    }
}
