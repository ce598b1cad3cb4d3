/// Parses Larochelle's `.amat` text format: one image per line, 784 space-separated 0/1 values.
public enum AmatParser {
    /// - Returns: row-major UInt8 pixels, `rows × columns`.
    /// - Throws: `DataError` naming the file and line for a ragged row or a value other than 0/1.
    public static func parse(_ text: [UInt8], columns: Int = 784, file: String) throws -> (pixels: [UInt8], rows: Int) {
        var pixels = [UInt8]()
        pixels.reserveCapacity(text.count / 2)
        var line = 1, inLine = 0, rows = 0
        var i = 0
        let n = text.count
        while i < n {
            let c = text[i]
            switch c {
            case UInt8(ascii: "0"), UInt8(ascii: "1"):
                // Accept "0", "1" and the forms "0.0"/"1.000" that some copies use.
                pixels.append(c &- UInt8(ascii: "0"))
                inLine += 1
                i += 1
                if i < n && text[i] == UInt8(ascii: ".") {
                    i += 1
                    while i < n && text[i] == UInt8(ascii: "0") { i += 1 }
                }
                if i < n && text[i] != UInt8(ascii: " ") && text[i] != UInt8(ascii: "\n") && text[i] != UInt8(ascii: "\r") {
                    throw DataError(file: file, "line \(line): value is not 0 or 1")
                }
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                i += 1
            case UInt8(ascii: "\n"):
                if inLine != columns {
                    throw DataError(file: file, "line \(line): ragged row with \(inLine) values, expected \(columns)")
                }
                rows += 1
                line += 1
                inLine = 0
                i += 1
            case UInt8(ascii: "2")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."):
                throw DataError(file: file, "line \(line): value is not 0 or 1")
            default:
                throw DataError(file: file, "line \(line): unexpected character '\(Character(UnicodeScalar(c)))'")
            }
        }
        if inLine != 0 {
            guard inLine == columns else {
                throw DataError(file: file, "line \(line): ragged row with \(inLine) values, expected \(columns)")
            }
            rows += 1
        }
        return (pixels, rows)
    }
}
