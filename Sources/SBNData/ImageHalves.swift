import CKernels
import SBNTensor

/// The structured-prediction split of a 28×28 image (Raiko et al. 2014; Jang et al. 2017 §4.1):
/// rows 0–13 (pixels 0..<392) are the given top half, rows 14–27 (pixels 392..<784) the bottom
/// half to predict. The model, the evaluation and the figures all use this one definition.
public enum ImageHalves {
    public static let side = 28
    public static let pixels = 784
    public static let top = 0..<392
    public static let bottom = 392..<784

    /// Copies the halves of images `indices` (rows of a row-major N×784 UInt8 array) into float
    /// matrices whose row r holds image indices[r].
    public static func fill(
        top topOut: Matrix, bottom bottomOut: Matrix, from images: UnsafeBufferPointer<UInt8>,
        indices: some Collection<Int>
    ) {
        precondition(topOut.cols == top.count && bottomOut.cols == bottom.count, "ImageHalves.fill: wrong widths")
        topOut.setRows(indices.count)
        bottomOut.setRows(indices.count)
        for (r, i) in indices.enumerated() { copy(image: i, from: images, toRow: r, top: topOut, bottom: bottomOut) }
    }

    /// The same for rows `rows` of a batch whose row r holds image indices[r] (a part of a batch;
    /// the matrices' row counts are set by the caller).
    public static func fill(
        top topOut: Matrix, bottom bottomOut: Matrix, from images: UnsafeBufferPointer<UInt8>,
        indices: ArraySlice<Int>, rows: Range<Int>
    ) {
        precondition(topOut.rows == indices.count && bottomOut.rows == indices.count, "ImageHalves.fill: row counts")
        for r in rows { copy(image: indices[indices.startIndex + r], from: images, toRow: r, top: topOut, bottom: bottomOut) }
    }

    @inline(__always)
    static func copy(
        image i: Int, from images: UnsafeBufferPointer<UInt8>, toRow r: Int, top topOut: Matrix, bottom bottomOut: Matrix
    ) {
        let src = images.baseAddress! + i * pixels
        sbn_bytes_to_floats(src + top.lowerBound, topOut.row(r), top.count)
        sbn_bytes_to_floats(src + bottom.lowerBound, bottomOut.row(r), bottom.count)
    }
}

/// Whole 28 × 28 images as rows of 784 floats (the VAE's input and target).
public enum FullImages {
    public static let pixels = ImageHalves.pixels

    @inline(__always)
    public static func copy(image i: Int, from images: UnsafeBufferPointer<UInt8>, toRow r: Int, of out: Matrix) {
        precondition(out.cols == pixels, "FullImages.copy: \(out.cols) columns for \(pixels) pixels")
        sbn_bytes_to_floats(images.baseAddress! + i * pixels, out.row(r), pixels)
    }
}
