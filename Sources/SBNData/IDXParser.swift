/// Parses LeCun's IDX files: big-endian magic (2051 for images, 2049 for labels), dimensions,
/// then unsigned bytes.
public enum IDXParser {
    public static func images(_ bytes: [UInt8], file: String) throws -> (pixels: [UInt8], count: Int, rows: Int, cols: Int) {
        let dims = try header(bytes, magic: 2051, rank: 3, file: file)
        let body = dims.reduce(1, *)
        guard bytes.count == 16 + body else {
            throw DataError(file: file, "IDX size \(bytes.count) bytes, expected \(16 + body) for \(dims)")
        }
        return (Array(bytes[16...]), dims[0], dims[1], dims[2])
    }

    public static func labels(_ bytes: [UInt8], file: String) throws -> [UInt8] {
        let dims = try header(bytes, magic: 2049, rank: 1, file: file)
        guard bytes.count == 8 + dims[0] else {
            throw DataError(file: file, "IDX size \(bytes.count) bytes, expected \(8 + dims[0])")
        }
        return Array(bytes[8...])
    }

    static func header(_ bytes: [UInt8], magic: Int, rank: Int, file: String) throws -> [Int] {
        func word(_ offset: Int) -> Int {
            Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
        }
        guard bytes.count >= 4 + 4 * rank else { throw DataError(file: file, "IDX file too short (\(bytes.count) bytes)") }
        let found = word(0)
        guard found == magic else { throw DataError(file: file, "wrong IDX magic number \(found), expected \(magic)") }
        return (0..<rank).map { word(4 + 4 * $0) }
    }
}
