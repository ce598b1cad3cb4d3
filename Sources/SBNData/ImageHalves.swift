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

/// Dynamic binarisation of grey images (Salakhutdinov & Murray 2008): pixel j of an image becomes
/// 1 with probability grey/255, by a counter-based draw that is a function of (key, pixel) only,
/// so a batch's bits need no random state: the trainer keys each image by (seed, epoch, index)
/// for a fresh draw every epoch, and evaluation keys the validation and test images by their
/// index alone, the same bits for every run.
public enum DynamicBinarization {
    /// The key of image `index` in `epoch` of a run with `seed` (epoch 0: the fixed evaluation draw).
    @inline(__always)
    public static func key(seed: UInt64, epoch: Int, index: Int) -> UInt64 {
        mix(seed &* 0x9E37_79B9_7F4A_7C15 ^ mix(UInt64(epoch) &* 0xC2B2_AE3D_27D4_EB4F ^ UInt64(index)))
    }

    /// Row r of `out` from grey image i of `images`, binarised with `key`.
    public static func copy(
        image i: Int, from images: UnsafeBufferPointer<UInt8>, toRow r: Int, of out: Matrix, key: UInt64
    ) {
        let pixels = ImageHalves.pixels
        let src = images.baseAddress! + i * pixels, dst = out.row(r)
        for j in 0..<pixels { dst[j] = Float(bit(src[j], key: key, pixel: j)) }
    }

    /// Pixel j of a grey image binarised with `key`: 1 with probability grey/255.
    @inline(__always)
    public static func bit(_ grey: UInt8, key: UInt64, pixel j: Int) -> UInt8 {
        // A uniform integer in 0 ..< 255 from the top bits: P(u < g) = g/255 (bias below 2⁻³²).
        let u = Int((mix(key &+ UInt64(j) &* 0xD6E8_FEB8_6659_FD93) >> 32) % 255)
        return u < Int(grey) ? 1 : 0
    }

    /// SplitMix64's finaliser (Steele et al. 2014).
    @inline(__always)
    static func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
