/// The named random streams of one run. Each purpose draws from its own generator so that, for
/// example, changing the number of evaluation samples does not change the training noise.
public enum RandomStream: UInt64, CaseIterable, Sendable {
    case initialization = 1
    case shuffling = 2
    case noise = 3
    case evaluation = 4
    case validation = 5
    /// Which training images are labelled (m2; keyed by `model.label_seed`).
    case labelled = 6
    /// The order of the labelled batches, one permutation per pass over them (m2).
    case labelledOrder = 7
}

extension Xoshiro256 {
    public init(seed: UInt64, purpose: RandomStream) { self.init(seed: seed, stream: purpose.rawValue) }

    /// The generator for chunk `index` of an evaluation: it depends only on (seed, purpose, index),
    /// so results do not depend on how chunks are spread over threads.
    public init(seed: UInt64, purpose: RandomStream, chunk index: Int) {
        var base = SplitMix64(state: seed ^ (purpose.rawValue &* 0x9E37_79B9_7F4A_7C15))
        self.init(seed: base.next(), stream: UInt64(index) &+ 0x100)
    }
}
