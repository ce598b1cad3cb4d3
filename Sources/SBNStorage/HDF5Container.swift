import CHDF5
// POSIX file calls (this module binds HDF5 and the file system): Glibc on Linux, Darwin on macOS.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An object that holds groups and datasets: a file (its root group) or a group.
public protocol HDF5Container: HDF5Object {
    var file: HDF5File { get }
    var path: String { get }
}

extension HDF5Container {
    func childPath(_ name: String) -> String { path == "/" ? "/" + name : path + "/" + name }

    /// True when `name` (a relative path such as `train/images`) exists below this container.
    public func contains(_ name: String) -> Bool {
        var prefix = ""
        for component in name.split(separator: "/") {
            prefix += prefix.isEmpty ? String(component) : "/" + component
            if H5Lexists(id, prefix, sbn_H5P_DEFAULT()) <= 0 { return false }
        }
        return !prefix.isEmpty
    }

    public func createGroup(_ name: String) throws -> HDF5Group {
        let gid = try check(
            id: H5Gcreate2(id, name, sbn_H5P_DEFAULT(), sbn_H5P_DEFAULT(), sbn_H5P_DEFAULT()),
            "create group \(childPath(name)) in \(file.filePath)")
        return HDF5Group(id: gid, file: file, path: childPath(name))
    }

    public func group(_ name: String) throws -> HDF5Group {
        guard contains(name) else {
            throw HDF5Error(operation: "\(file.filePath): no group '\(childPath(name))'", hdf5Message: "")
        }
        let gid = try check(id: H5Gopen2(id, name, sbn_H5P_DEFAULT()), "open group \(childPath(name)) in \(file.filePath)")
        return HDF5Group(id: gid, file: file, path: childPath(name))
    }

    public func dataset(_ name: String) throws -> HDF5Dataset {
        guard contains(name) else {
            throw HDF5Error(operation: "\(file.filePath): no dataset '\(childPath(name))'", hdf5Message: "")
        }
        let did = try check(id: H5Dopen2(id, name, sbn_H5P_DEFAULT()), "open dataset \(childPath(name)) in \(file.filePath)")
        return HDF5Dataset(id: did, file: file, path: childPath(name))
    }

    /// Creates a dataset of element type `T`.
    /// - Parameters:
    ///   - shape: current dimensions.
    ///   - maxShape: per-dimension maximum, `nil` for unlimited (extendable) dimensions; defaults to `shape`.
    ///   - chunks: chunk dimensions; required for extendable or compressed datasets.
    ///   - compression: deflate level 1–9 (with the shuffle filter), or `nil` for none.
    public func createDataset<T: HDF5Element>(
        _ name: String, of: T.Type, shape: [Int], maxShape: [Int?]? = nil,
        chunks: [Int]? = nil, compression: Int? = nil
    ) throws -> HDF5Dataset {
        let dims = shape.map { hsize_t($0) }
        let maxDims = (maxShape ?? shape.map { Optional($0) }).map { $0.map { hsize_t($0) } ?? sbn_H5S_UNLIMITED() }
        precondition(maxDims.count == dims.count, "createDataset: maxShape rank differs from shape rank")
        let space = try check(id: H5Screate_simple(Int32(dims.count), dims, maxDims), "dataspace for \(childPath(name))")
        defer { H5Sclose(space) }
        let dcpl = try check(id: H5Pcreate(sbn_H5P_DATASET_CREATE()), "property list for \(childPath(name))")
        defer { H5Pclose(dcpl) }
        if let chunks {
            let chunkDims = chunks.map { hsize_t(max($0, 1)) }
            try check(H5Pset_chunk(dcpl, Int32(chunkDims.count), chunkDims), "chunking of \(childPath(name))")
            if let level = compression {
                try check(H5Pset_shuffle(dcpl), "shuffle filter of \(childPath(name))")
                try check(H5Pset_deflate(dcpl, UInt32(level)), "deflate filter of \(childPath(name))")
            }
        }
        let did = try check(
            id: H5Dcreate2(id, name, T.hdf5Type, space, sbn_H5P_DEFAULT(), dcpl, sbn_H5P_DEFAULT()),
            "create dataset \(childPath(name)) in \(file.filePath)")
        return HDF5Dataset(id: did, file: file, path: childPath(name))
    }

    /// Creates a dataset and writes `values` into it in one call.
    @discardableResult
    public func write<T: HDF5Element>(
        _ name: String, _ values: [T], shape: [Int]? = nil,
        chunks: [Int]? = nil, compression: Int? = nil
    ) throws -> HDF5Dataset {
        let ds = try createDataset(name, of: T.self, shape: shape ?? [values.count], chunks: chunks, compression: compression)
        try ds.write(values)
        return ds
    }

    /// Writes a 1-D dataset of variable-length UTF-8 strings (h5py reads them as `bytes`/`str`
    /// objects; `.asstr()` gives `str`). Used for the text columns of summaries.
    @discardableResult
    public func writeStrings(_ name: String, _ values: [String]) throws -> HDF5Dataset {
        let type = try makeStringType()
        defer { H5Tclose(type) }
        let dims = [hsize_t(values.count)]
        let space = try check(id: H5Screate_simple(1, dims, nil), "dataspace for \(childPath(name))")
        defer { H5Sclose(space) }
        let did = try check(
            id: H5Dcreate2(id, name, type, space, sbn_H5P_DEFAULT(), sbn_H5P_DEFAULT(), sbn_H5P_DEFAULT()),
            "create dataset \(childPath(name)) in \(file.filePath)")
        let ds = HDF5Dataset(id: did, file: file, path: childPath(name))
        var pointers: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) }
        defer { for p in pointers { free(p) } }
        if !values.isEmpty {
            try check(H5Dwrite(did, type, H5S_ALL, H5S_ALL, sbn_H5P_DEFAULT(), &pointers), "write \(ds.location)")
        }
        return ds
    }

    /// Creates an extendable dataset with zero rows: 1-D when `columns` is nil, else (0, columns).
    /// Rows are added with `HDF5Dataset.append`.
    public func createExtendable<T: HDF5Element>(
        _ name: String, of: T.Type, columns: Int? = nil,
        chunkRows: Int = 256
    ) throws -> HDF5Dataset {
        if let columns {
            return try createDataset(
                name, of: T.self, shape: [0, columns], maxShape: [nil, columns],
                chunks: [chunkRows, columns])
        }
        return try createDataset(name, of: T.self, shape: [0], maxShape: [nil], chunks: [chunkRows])
    }

    /// Names of the direct children (groups and datasets), sorted.
    public func childNames() throws -> [String] {
        var info = H5G_info_t()
        try check(H5Gget_info(id, &info), "list \(path) in \(file.filePath)")
        return try namesByIndex(info.nlinks, "list \(path) in \(file.filePath)") { i, buf, size in
            H5Lget_name_by_idx(id, ".", H5_INDEX_NAME, H5_ITER_INC, i, buf, size, sbn_H5P_DEFAULT())
        }
    }

    /// True if the child `name` is a group (false for datasets).
    public func isGroup(_ name: String) -> Bool {
        var info = H5O_info_t()
        guard H5Oget_info_by_name2(id, name, &info, UInt32(H5O_INFO_BASIC), sbn_H5P_DEFAULT()) >= 0 else { return false }
        return info.type == H5O_TYPE_GROUP
    }
}

/// An open HDF5 group.
public final class HDF5Group: HDF5Node, HDF5Container {
    init(id: hid_t, file: HDF5File, path: String) {
        super.init(id: id, file: file, path: path, close: H5Gclose)
    }
}
