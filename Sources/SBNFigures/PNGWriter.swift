import CZlib
import Foundation
import SBNStorage

/// Writes 8-bit RGB PNG files with zlib (deflate for IDAT, crc32 for chunk checksums), so
/// figures need no Python or image library.
public enum PNGWriter {
    /// - Parameter rgb: width × height × 3 bytes, row-major.
    public static func encode(width: Int, height: Int, rgb: [UInt8]) -> [UInt8] {
        precondition(rgb.count == width * height * 3, "PNGWriter: \(rgb.count) bytes for \(width)x\(height) RGB")
        // Each scanline is preceded by its filter type (0 = none).
        var raw = [UInt8]()
        raw.reserveCapacity(height * (1 + width * 3))
        for y in 0..<height {
            raw.append(0)
            raw.append(contentsOf: rgb[(y * width * 3)..<((y + 1) * width * 3)])
        }
        var compressedSize = compressBound(uLong(raw.count))
        var compressed = [UInt8](repeating: 0, count: Int(compressedSize))
        let status = compress2(&compressed, &compressedSize, raw, uLong(raw.count), 9)
        precondition(status == Z_OK, "PNGWriter: zlib compress2 failed (\(status))")
        compressed.removeSubrange(Int(compressedSize)...)

        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        var header = bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]  // bit depth 8, colour type RGB, deflate, no filter, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", compressed, to: &png)
        appendChunk("IEND", [], to: &png)
        return png
    }

    public static func write(_ path: String, width: Int, height: Int, rgb: [UInt8]) throws {
        // AtomicFile: write-then-rename, and never onto a link, FIFO or device (Data's .atomic
        // option replaced /dev/full with a regular file).
        let bytes = Data(encode(width: width, height: height, rgb: rgb))
        try AtomicFile.write(to: path) { tmp in try bytes.write(to: URL(fileURLWithPath: tmp)) }
    }

    static func bigEndian(_ v: UInt32) -> [UInt8] {
        [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }

    static func appendChunk(_ type: String, _ data: [UInt8], to png: inout [UInt8]) {
        let typeBytes = Array(type.utf8)
        png += bigEndian(UInt32(data.count))
        let body = typeBytes + data
        png += body
        png += bigEndian(UInt32(crc32(0, body, uInt(body.count))))
    }
}
