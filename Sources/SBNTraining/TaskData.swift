import SBNData
import SBNModel
import SBNTensor

/// How each task fills a batch from the binarized images (`BinarizedMNIST`, 784 bytes each).
extension Task {
    /// Rows `rows` of a batch whose row r holds image indices[r] (a part of a batch; the row
    /// counts are set by the caller).
    public func fill(_ batch: Batch, from images: UnsafeBufferPointer<UInt8>, indices: ArraySlice<Int>, rows: Range<Int>) {
        if targetIsInput {
            for r in rows { FullImages.copy(image: indices[indices.startIndex + r], from: images, toRow: r, of: batch.input) }
        } else {
            ImageHalves.fill(top: batch.input, bottom: batch.target, from: images, indices: indices, rows: rows)
        }
    }

    /// A whole batch of the images `indices`.
    public func fill(_ batch: Batch, from images: UnsafeBufferPointer<UInt8>, indices: Range<Int>) {
        batch.setRows(indices.count)
        let slice = Array(indices)[...]
        fill(batch, from: images, indices: slice, rows: 0..<indices.count)
    }
}
