import CHDF5

/// Anything with an HDF5 identifier that can carry attributes: files, groups and datasets.
/// Each owner closes its identifier exactly once, in `deinit`.
public protocol HDF5Object: AnyObject {
    var id: hid_t { get }
    /// Human-readable location for error messages (file path and object path).
    var location: String { get }
}

// MARK: - Attributes

extension HDF5Object {
    /// The largest attribute (in elements, or bytes for one string) a reader accepts.
    static var maxAttributeBytes: Int { 1 << 20 }

    public func hasAttribute(_ name: String) -> Bool { H5Aexists(id, name) > 0 }

    /// Writes a variable-length UTF-8 string attribute (h5py reads it back as `str`).
    public func setAttribute(_ name: String, _ value: String) throws {
        let type = try makeStringType()
        defer { H5Tclose(type) }
        try writeAttribute(name, type: type, dims: []) { attr in
            try value.withCString { cstr in
                var ptr: UnsafePointer<CChar>? = cstr
                try check(H5Awrite(attr, type, &ptr), "write attribute \(name) of \(location)")
            }
        }
    }

    /// Writes a scalar numeric attribute.
    public func setAttribute<T: HDF5Element>(_ name: String, _ value: T) throws {
        try writeAttribute(name, type: T.hdf5Type, dims: []) { attr in
            try [value].withUnsafeBufferPointer { buf in
                try check(H5Awrite(attr, T.hdf5Type, buf.baseAddress), "write attribute \(name) of \(location)")
            }
        }
    }

    /// Writes a 1-D numeric array attribute.
    public func setAttribute<T: HDF5Element>(_ name: String, _ values: [T]) throws {
        try writeAttribute(name, type: T.hdf5Type, dims: [hsize_t(values.count)]) { attr in
            try values.withUnsafeBufferPointer { buf in
                try check(H5Awrite(attr, T.hdf5Type, buf.baseAddress), "write attribute \(name) of \(location)")
            }
        }
    }

    public func stringAttribute(_ name: String) throws -> String {
        let attr = try openAttribute(name)
        defer { H5Aclose(attr) }
        let type = try check(id: H5Aget_type(attr), "type of attribute \(name) of \(location)")
        defer { H5Tclose(type) }
        guard H5Tget_class(type) == H5T_STRING else {
            throw HDF5Error(operation: "attribute \(name) of \(location) is not a string", hdf5Message: "")
        }
        // One string only: H5Aread writes every element of the attribute's dataspace, and the
        // buffers below hold one (a damaged file may declare an array of them).
        guard try attributePoints(attr, name) == 1 else {
            throw HDF5Error(operation: "attribute \(name) of \(location) is not a single string", hdf5Message: "")
        }
        if H5Tis_variable_str(type) > 0 {
            try VariableLengthStrings.check(count: 1, of: attr, "attribute \(name) of \(location)") { H5Aread(attr, $0, $1) }
            let memType = try makeStringType()
            defer { H5Tclose(memType) }
            var ptr: UnsafeMutablePointer<CChar>? = nil
            try check(H5Aread(attr, memType, &ptr), "read attribute \(name) of \(location)")
            defer { if let ptr { H5free_memory(ptr) } }
            return ptr.map { String(cString: $0) } ?? ""
        }
        let size = H5Tget_size(type)
        guard size > 0, size <= Self.maxAttributeBytes else {
            throw HDF5Error(operation: "attribute \(name) of \(location) declares a string of \(size) bytes", hdf5Message: "")
        }
        var bytes = [UInt8](repeating: 0, count: size + 1)
        try check(H5Aread(attr, type, &bytes), "read attribute \(name) of \(location)")
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// Reads a numeric attribute as `T` (HDF5 converts between numeric types).
    public func attribute<T: HDF5Element>(_ name: String, as: T.Type = T.self) throws -> T {
        let values: [T] = try attributeArray(name)
        guard values.count == 1 else {
            throw HDF5Error(operation: "attribute \(name) of \(location) has \(values.count) values, expected 1", hdf5Message: "")
        }
        return values[0]
    }

    public func attributeArray<T: HDF5Element>(_ name: String, as: T.Type = T.self) throws -> [T] {
        let attr = try openAttribute(name)
        defer { H5Aclose(attr) }
        let n = try attributePoints(attr, name)
        var values = [T](repeating: .zero, count: n)
        try values.withUnsafeMutableBufferPointer { buf in
            try check(H5Aread(attr, T.hdf5Type, buf.baseAddress), "read attribute \(name) of \(location)")
        }
        return values
    }

    /// Names of all attributes, sorted.
    public func attributeNames() throws -> [String] {
        var info = H5O_info_t()
        try check(H5Oget_info2(id, &info, UInt32(H5O_INFO_NUM_ATTRS)), "object info of \(location)")
        return try namesByIndex(info.num_attrs, "attribute names of \(location)") { i, buf, size in
            H5Aget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf, size, sbn_H5P_DEFAULT())
        }
    }

    /// The number of elements an attribute declares, at most `maxAttributeBytes` (HDF5 keeps
    /// attributes in the object header, 64 KiB at most, unless stored densely).
    private func attributePoints(_ attr: hid_t, _ name: String) throws -> Int {
        let space = try check(id: H5Aget_space(attr), "space of attribute \(name) of \(location)")
        defer { H5Sclose(space) }
        let n = H5Sget_simple_extent_npoints(space)
        guard n >= 0, n <= Int64(Self.maxAttributeBytes) else {
            throw HDF5Error(operation: "attribute \(name) of \(location) declares \(n) elements", hdf5Message: "")
        }
        return Int(n)
    }

    private func openAttribute(_ name: String) throws -> hid_t {
        guard hasAttribute(name) else {
            throw HDF5Error(operation: "\(location) has no attribute '\(name)'", hdf5Message: "")
        }
        return try check(id: H5Aopen(id, name, sbn_H5P_DEFAULT()), "open attribute \(name) of \(location)")
    }

    private func writeAttribute(_ name: String, type: hid_t, dims: [hsize_t], body: (hid_t) throws -> Void) throws {
        if hasAttribute(name) { try check(H5Adelete(id, name), "replace attribute \(name) of \(location)") }
        let space =
            dims.isEmpty
            ? H5Screate(H5S_SCALAR)
            : dims.withUnsafeBufferPointer { H5Screate_simple(1, $0.baseAddress, nil) }
        _ = try check(id: space, "dataspace for attribute \(name)")
        defer { H5Sclose(space) }
        let attr = try check(
            id: H5Acreate2(id, name, type, space, sbn_H5P_DEFAULT(), sbn_H5P_DEFAULT()),
            "create attribute \(name) of \(location)")
        defer { H5Aclose(attr) }
        try body(attr)
    }
}

func makeStringType() throws -> hid_t {
    let type = try check(id: H5Tcopy(sbn_H5T_C_S1()), "string type")
    H5Tset_size(type, sbn_H5T_VARIABLE())
    H5Tset_cset(type, H5T_CSET_UTF8)
    return type
}

func stringFromCBuffer(_ buf: [CChar]) -> String {
    String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}

/// The names HDF5 lists by index (links, attributes): `fetch(i, nil, 0)` gives a name's length,
/// `fetch(i, buffer, size)` copies it.
func namesByIndex(
    _ count: hsize_t, _ operation: @autoclosure () -> String,
    fetch: (hsize_t, UnsafeMutablePointer<CChar>?, Int) -> Int
) throws -> [String] {
    try (0..<count).map { i in
        let len = fetch(i, nil, 0)
        guard len >= 0 else { throw HDF5Error.current(operation()) }
        var buf = [CChar](repeating: 0, count: len + 1)
        _ = buf.withUnsafeMutableBufferPointer { fetch(i, $0.baseAddress, $0.count) }
        return stringFromCBuffer(buf)
    }
}

/// A group or dataset: its identifier, owning file and path, closed once when released.
public class HDF5Node: HDF5Object {
    public let id: hid_t
    public let file: HDF5File
    public let path: String
    public var location: String { "\(file.filePath):\(path)" }
    private let close: (hid_t) -> herr_t

    init(id: hid_t, file: HDF5File, path: String, close: @escaping (hid_t) -> herr_t) {
        self.id = id
        self.file = file
        self.path = path
        self.close = close
    }

    deinit { _ = close(id) }
}
