import SBNConfig
import SBNDiagnostics
import SBNModel

/// Everything a results file holds for one run, in memory. The trainer appends to it and
/// `ResultsFile` writes it whole, atomically, after every epoch.
public struct RunRecord: Sendable {
    public enum Status: String, Sendable { case running, finished, failed }

    public struct TrainRow: Sendable, Equatable {
        public var step: Int64, epoch: Int64, loss: Double, tau: Double, lr: Double, wallTime: Double
    }

    public struct ValidRow: Sendable, Equatable {
        public var step: Int64, epoch: Int64, nll: Double
        /// Seconds the epoch spent training and validating (NaN when not recorded).
        public var trainSeconds: Double = .nan, validSeconds: Double = .nan

        public init(step: Int64, epoch: Int64, nll: Double, trainSeconds: Double = .nan, validSeconds: Double = .nan) {
            (self.step, self.epoch, self.nll, self.trainSeconds, self.validSeconds) = (
                step, epoch, nll, trainSeconds, validSeconds
            )
        }
    }

    /// The test set's m-sample importance-weighted NLL (the SBN's −log p(x_bottom | x_top), the
    /// VAE's −log p(x)), and for a model with a prior term its −ELBO with discrete samples.
    public struct TestResult: Sendable, Equatable {
        public var nll: Double, sem: Double, samples: Int, images: Int
        public var perImage: [Double]
        public var negELBO: Double? = nil, negELBOSem: Double? = nil
        public var perImageNegELBO: [Double]? = nil
        /// The classifier's test accuracy (fraction) and its binomial standard error (m2 only).
        public var accuracy: Double? = nil, accuracySem: Double? = nil
        /// The classifier's test confusion counts (m2 runs finished since 2026-12-01; older files have none).
        public var confusion: ClassConfusion? = nil

        /// The number the paper's table reports for this task (`Task.paperMetric`; accuracy in %).
        public func paperValue(_ task: Task) -> (value: Double, sem: Double) {
            switch task.paperMetric {
            case "neg_elbo": (negELBO ?? .nan, negELBOSem ?? .nan)
            case "accuracy": (100 * (accuracy ?? .nan), 100 * (accuracySem ?? .nan))
            default: (nll, sem)
            }
        }
    }

    public var config: ExperimentConfig
    public var configJSON: String
    public var status: Status = .running
    public var error: String?
    public var codeVersion: String
    public var train: [TrainRow] = []
    public var valid: [ValidRow] = []
    public var validSamples: Int
    public var test: TestResult?

    /// One `diagnostics:` measurement: the step after which it was taken, the reference's
    /// size and relative standard error, and one row per measured estimator.
    public struct DiagnosticsRow: Sendable {
        public var step: Int64, epoch: Int64, referenceNorm: Double, referenceRelativeError: Double
        public var rows: [GradientStatistics.Row]
    }
    public var diagnostics: [DiagnosticsRow] = []

    /// Where a run stopped inside an epoch (a stop signal): the batches of epoch `epochsDone + 1`
    /// already trained, and the sums its progress lines and epoch loss continue from. The
    /// checkpoint's shuffling stream is then the state before that epoch's shuffle, so a resumed
    /// run draws the same order and skips the batches done.
    public struct EpochProgress: Sendable, Equatable {
        public var batches: Int
        public var lossSum: Double
        public var intervalLoss: Double
        public var intervalCount: Int
    }

    // Checkpoint position: completed epochs and steps, best validation so far, and elapsed time.
    public var epochProgress: EpochProgress?
    public var epochsDone = 0
    public var steps = 0
    public var bestValidNLL = Double.infinity
    public var bestEpoch = 0
    public var elapsed = 0.0
    /// Whether the file this record was read from holds a checkpoint.
    public var hasCheckpoint = false

    public init(config: ExperimentConfig, codeVersion: String) {
        self.config = config
        configJSON = config.json
        self.codeVersion = codeVersion
        validSamples = config.samples.valid
    }
}
