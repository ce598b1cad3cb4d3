import SBNData
import SBNDistributions
import SBNModel
import SBNTensor

/// How each task fills a batch from the images (`BinarizedMNIST`, 784 bytes each).
extension Task {
    /// Rows `rows` of a batch whose row r holds image indices[r] (a part of a batch; the row
    /// counts are set by the caller). Grey images (`binarize`) are binarised afresh with the key of
    /// (seed, epoch, image index) (`DynamicBinarization`); the others are copied.
    public func fill(
        _ batch: Batch, from images: UnsafeBufferPointer<UInt8>, indices: ArraySlice<Int>, rows: Range<Int>,
        binarize: (seed: UInt64, epoch: Int)? = nil
    ) {
        if let binarize {
            precondition(targetIsInput, "Task.fill: grey images are binarised for whole-image tasks only")
            for r in rows {
                let i = indices[indices.startIndex + r]
                let key = DynamicBinarization.key(seed: binarize.seed, epoch: binarize.epoch, index: i)
                DynamicBinarization.copy(image: i, from: images, toRow: r, of: batch.input, key: key)
            }
        } else if targetIsInput {
            for r in rows { FullImages.copy(image: indices[indices.startIndex + r], from: images, toRow: r, of: batch.input) }
        } else {
            ImageHalves.fill(top: batch.input, bottom: batch.target, from: images, indices: indices, rows: rows)
        }
    }

    /// A whole batch of the images `indices`.
    public func fill(
        _ batch: Batch, from images: UnsafeBufferPointer<UInt8>, indices: Range<Int>, binarize: (seed: UInt64, epoch: Int)? = nil
    ) {
        batch.setRows(indices.count)
        let slice = Array(indices)[...]
        fill(batch, from: images, indices: slice, rows: 0..<indices.count, binarize: binarize)
    }
}

extension BinarizedMNIST.Split {
    /// Images `indices` with 0/1 pixels as the evaluation of `purpose` reads them: copied, or for
    /// grey images in that evaluation's fixed binarisation, so a figure shows the digits scored.
    public func binaryImages(_ indices: [Int], purpose: RandomStream = .evaluation) -> [UInt8] {
        let pixels = ImageHalves.pixels
        guard let binarize = SemiSupervisedRun.evaluationBinarization(self, purpose) else {
            return indices.flatMap { images[($0 * pixels)..<(($0 + 1) * pixels)] }
        }
        return indices.flatMap { i in
            let key = DynamicBinarization.key(seed: binarize.seed, epoch: binarize.epoch, index: i)
            return (0..<pixels).map { j in DynamicBinarization.bit(images[i * pixels + j], key: key, pixel: j) }
        }
    }
}
