import CZlib

/// Decompresses a whole gzip (or zlib) file in memory with zlib's inflate.
public enum Gzip {
    /// - Throws: `DataError` naming `file` for corrupt or truncated streams.
    public static func decompress(_ compressed: [UInt8], file: String) throws -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers automatically.
        guard sbn_inflateInit2(&stream, 15 + 32) == Z_OK else { throw DataError(file: file, "zlib initialisation failed") }
        defer { inflateEnd(&stream) }
        var output = [UInt8]()
        output.reserveCapacity(compressed.count * 8)
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status: Int32 = Z_OK
        try compressed.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
            stream.avail_in = UInt32(input.count)
            repeat {
                status = chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = UInt32(out.count)
                    return inflate(&stream, Z_NO_FLUSH)
                }
                let produced = chunk.count - Int(stream.avail_out)
                output.append(contentsOf: chunk[0..<produced])
                switch status {
                case Z_OK, Z_STREAM_END: break
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw DataError(file: file, "truncated gzip stream (ends after \(output.count) bytes of output)")
                default:
                    let msg = stream.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                    throw DataError(file: file, "corrupt gzip stream: \(msg)")
                }
                if status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0 {
                    throw DataError(file: file, "truncated gzip stream (ends after \(output.count) bytes of output)")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
