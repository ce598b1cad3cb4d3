import Foundation

/// The classifier's confusion counts on a labelled split: how many images of each true digit
/// (rows, 0–9) q(y | x) put in each class (columns, 0..<K; classes beyond the data's digits are
/// latent categories that no label names, so an image there counts as wrong). The accuracy and
/// its binomial standard error follow from the counts, and the per-digit accuracies say which
/// digits a run lost, which one number cannot (two runs can differ by a whole digit).
public struct ClassConfusion: Sendable, Equatable {
    public let labels: Int, classes: Int
    /// Row-major `labels × classes` counts.
    public private(set) var counts: [Int]

    public init(labels: Int, classes: Int) {
        (self.labels, self.classes) = (labels, classes)
        counts = Array(repeating: 0, count: labels * classes)
    }

    /// Counts read from a file, `nil` when they are not a confusion table of this shape.
    public init?(labels: Int, classes: Int, counts: [Int]) {
        guard labels > 0, classes > 0, counts.count == labels * classes, counts.allSatisfy({ $0 >= 0 }) else { return nil }
        (self.labels, self.classes, self.counts) = (labels, classes, counts)
    }

    /// One image of digit `label` put in class `predicted`.
    public mutating func add(label: Int, predicted: Int) { counts[label * classes + predicted] += 1 }

    public func count(label: Int, predicted: Int) -> Int { counts[label * classes + predicted] }
    public var total: Int { counts.reduce(0, +) }
    public var correct: Int { (0..<min(labels, classes)).reduce(0) { $0 + count(label: $1, predicted: $1) } }

    public var accuracy: Double { Double(correct) / Double(max(total, 1)) }
    /// The binomial standard error of `accuracy` over `total` images.
    public var standardError: Double { (accuracy * (1 - accuracy) / Double(max(total, 1))).squareRoot() }

    /// Each digit's share of its images classified as itself (nan for a digit with no images).
    public var perLabelAccuracy: [Double] {
        (0..<labels).map { l in
            let row = (0..<classes).reduce(0) { $0 + count(label: l, predicted: $1) }
            return row == 0 ? .nan : Double(l < classes ? count(label: l, predicted: l) : 0) / Double(row)
        }
    }

    /// The `n` largest off-diagonal cells, largest first: (true digit, predicted class, images).
    public func largestConfusions(_ n: Int) -> [(label: Int, predicted: Int, images: Int)] {
        let cells = (0..<labels).flatMap { l in
            (0..<classes).map { (label: l, predicted: $0, images: count(label: l, predicted: $0)) }
        }
        return cells.filter { $0.label != $0.predicted && $0.images > 0 }
            .sorted { ($0.images, -$0.label, -$0.predicted) > ($1.images, -$1.label, -$1.predicted) }
            .prefix(n).map { $0 }
    }

    /// The counts as a markdown table, a row per true digit and a column per predicted class.
    public var markdownTable: String {
        let header = "| digit \\ class | " + (0..<classes).map(String.init).joined(separator: " | ") + " |"
        let rule = "|" + String(repeating: "---|", count: classes + 1)
        let rows = (0..<labels).map { l in
            "| \(l) | " + (0..<classes).map { String(count(label: l, predicted: $0)) }.joined(separator: " | ") + " |"
        }
        return ([header, rule] + rows).joined(separator: "\n")
    }

    /// One line for `show` and `eval`: each digit's accuracy, then the three largest confusions.
    public var summaryLine: String {
        let digits = perLabelAccuracy.enumerated().map { String(format: "%d %.1f", $0.offset, 100 * $0.element) }
        let worst = largestConfusions(3).map { "\($0.label)→\($0.predicted) \($0.images)" }
        return "per digit %: " + digits.joined(separator: ", ")
            + (worst.isEmpty ? "" : "; most confused: " + worst.joined(separator: ", "))
    }
}
