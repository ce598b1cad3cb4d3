import CHDF5

/// The numeric element types that datasets and attributes store, with their native HDF5 type.
public protocol HDF5Element: Sendable {
    static var hdf5Type: hid_t { get }
    static var zero: Self { get }
}

extension UInt8: HDF5Element {
    public static var hdf5Type: hid_t { sbn_H5T_NATIVE_UINT8() }
    public static var zero: UInt8 { 0 }
}
extension Int32: HDF5Element {
    public static var hdf5Type: hid_t { sbn_H5T_NATIVE_INT32() }
    public static var zero: Int32 { 0 }
}
extension Int64: HDF5Element {
    public static var hdf5Type: hid_t { sbn_H5T_NATIVE_INT64() }
    public static var zero: Int64 { 0 }
}
extension UInt64: HDF5Element {
    public static var hdf5Type: hid_t { sbn_H5T_NATIVE_UINT64() }
    public static var zero: UInt64 { 0 }
}
extension Float: HDF5Element {
    public static var hdf5Type: hid_t { sbn_H5T_NATIVE_FLOAT() }
    public static var zero: Float { 0 }
}
extension Double: HDF5Element {
    public static var hdf5Type: hid_t { sbn_H5T_NATIVE_DOUBLE() }
    public static var zero: Double { 0 }
}
