/// A growing byte buffer with the few protocol-buffer encodings TensorBoard's `Event` needs
/// (https://protobuf.dev/programming-guides/encoding/): varints, 32- and 64-bit little-endian
/// values, and length-delimited fields. Its storage is reserved once and reused (`removeAll`
/// keeps the capacity), so encoding a scalar event in the training loop does not allocate.
public struct ProtoBuffer {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    enum WireType: UInt64 { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    mutating func key(_ field: UInt64, _ type: WireType) { varint(field << 3 | type.rawValue) }

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func uint(_ field: UInt64, _ value: UInt64) {
        key(field, .varint)
        varint(value)
    }

    /// An int64 or enum field (negative values as 10-byte two's complement, as protobuf does).
    public mutating func int(_ field: UInt64, _ value: Int64) { uint(field, UInt64(bitPattern: value)) }

    public mutating func double(_ field: UInt64, _ value: Double) {
        key(field, .fixed64)
        littleEndian(value.bitPattern)
    }

    public mutating func float(_ field: UInt64, _ value: Float) {
        key(field, .fixed32)
        littleEndian(value.bitPattern)
    }

    public mutating func bytes(_ field: UInt64, _ value: some Collection<UInt8>) {
        key(field, .lengthDelimited)
        varint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ field: UInt64, _ value: String) { bytes(field, Array(value.utf8)) }

    /// A nested message, encoded in place: two bytes are held for its length, then the length
    /// is written into them (one byte: the body moves down by one; more than two: it moves up).
    /// No temporary buffer, so nested messages allocate nothing once capacity is reserved.
    public mutating func message(_ field: UInt64, _ body: (inout ProtoBuffer) -> Void) {
        key(field, .lengthDelimited)
        let start = bytes.count
        bytes.append(0)
        bytes.append(0)
        body(&self)
        var length = UInt64(bytes.count - start - 2)
        var width = 1
        while length >> (7 * UInt64(width)) != 0 { width += 1 }
        if width == 1 { bytes.remove(at: start + 1) }
        for _ in 2..<max(2, width) { bytes.insert(0, at: start + 2) }
        for i in 0..<width {
            bytes[start + i] = UInt8(length & 0x7F) | (i < width - 1 ? 0x80 : 0)
            length >>= 7
        }
    }

    mutating func littleEndian<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }
}
