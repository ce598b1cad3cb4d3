import CHDF5
import Foundation

/// An open dataset: typed whole-array and row-range reads and writes, and row appends for
/// extendable datasets.
public final class HDF5Dataset: HDF5Node {
    init(id: hid_t, file: HDF5File, path: String) {
        super.init(id: id, file: file, path: path, close: H5Dclose)
    }

    /// Current dimensions.
    public var shape: [Int] { (try? dimensions()) ?? [] }

    /// Current dimensions, or an error naming the dataset when its dataspace is damaged.
    public func dimensions() throws -> [Int] { try dims().current.map { Int($0) } }

    /// Maximum dimensions; `nil` marks an unlimited dimension.
    public var maxShape: [Int?] {
        ((try? dims().max) ?? []).map { $0 == sbn_H5S_UNLIMITED() ? nil : Int($0) }
    }

    public var count: Int { shape.reduce(1, *) }

    /// Chunk dimensions, or nil for a contiguous dataset.
    public var chunks: [Int]? {
        let dcpl = H5Dget_create_plist(id)
        guard dcpl >= 0 else { return nil }
        defer { H5Pclose(dcpl) }
        guard H5Pget_layout(dcpl) == H5D_CHUNKED else { return nil }
        var dims = [hsize_t](repeating: 0, count: 8)
        let rank = H5Pget_chunk(dcpl, 8, &dims)
        return rank > 0 ? dims.prefix(Int(rank)).map { Int($0) } : nil
    }

    /// Writes the whole dataset; `values.count` must equal its element count.
    public func write<T: HDF5Element>(_ values: [T]) throws {
        guard values.count == count else {
            throw HDF5Error(operation: "\(location): writing \(values.count) values into \(shape)", hdf5Message: "")
        }
        try values.withUnsafeBufferPointer { buf in
            try check(H5Dwrite(id, T.hdf5Type, H5S_ALL, H5S_ALL, sbn_H5P_DEFAULT(), buf.baseAddress), "write \(location)")
        }
    }

    /// Reads the whole dataset, converting to `T`.
    public func read<T: HDF5Element>(as: T.Type = T.self) throws -> [T] {
        try checkAllocation(count, of: T.self)
        var values = [T](repeating: .zero, count: count)
        try values.withUnsafeMutableBufferPointer { buf in
            try read(into: buf)
        }
        return values
    }

    /// Reads the whole dataset into caller-owned memory.
    public func read<T: HDF5Element>(into buffer: UnsafeMutableBufferPointer<T>) throws {
        guard buffer.count >= count else {
            throw HDF5Error(operation: "\(location): buffer of \(buffer.count) for \(count) values", hdf5Message: "")
        }
        if count == 0 { return }
        try check(H5Dread(id, T.hdf5Type, H5S_ALL, H5S_ALL, sbn_H5P_DEFAULT(), buffer.baseAddress), "read \(location)")
    }

    /// Reads a 1-D dataset of variable-length strings.
    public func readStrings() throws -> [String] {
        let n = count
        guard n > 0 else { return [] }
        try checkAllocation(n, of: UnsafeMutablePointer<CChar>?.self)
        let type = try makeStringType()
        defer { H5Tclose(type) }
        try VariableLengthStrings.check(count: n, of: id, location) {
            H5Dread(id, $0, H5S_ALL, H5S_ALL, sbn_H5P_DEFAULT(), $1)
        }
        var pointers = [UnsafeMutablePointer<CChar>?](repeating: nil, count: n)
        try check(H5Dread(id, type, H5S_ALL, H5S_ALL, sbn_H5P_DEFAULT(), &pointers), "read strings of \(location)")
        defer { for p in pointers { if let p { H5free_memory(p) } } }
        return pointers.map { $0.map { String(cString: $0) } ?? "" }
    }

    /// Reads rows `range` along the first dimension.
    public func readRows<T: HDF5Element>(_ range: Range<Int>, as: T.Type = T.self) throws -> [T] {
        let dims = shape
        guard let n = dims.first, range.lowerBound >= 0, range.upperBound <= n else {
            throw HDF5Error(operation: "\(location): rows \(range) out of \(shape)", hdf5Message: "")
        }
        let rowSize = dims.dropFirst().reduce(1, *)
        try checkAllocation(range.count * rowSize, of: T.self)
        var values = [T](repeating: .zero, count: range.count * rowSize)
        if range.isEmpty { return values }
        let start = [hsize_t(range.lowerBound)] + dims.dropFirst().map { _ in hsize_t(0) }
        let counts = [hsize_t(range.count)] + dims.dropFirst().map { hsize_t($0) }
        try withHyperslab(start: start, counts: counts) { fileSpace, memSpace in
            try values.withUnsafeMutableBufferPointer { buf in
                try check(
                    H5Dread(id, T.hdf5Type, memSpace, fileSpace, sbn_H5P_DEFAULT(), buf.baseAddress), "read rows of \(location)")
            }
        }
        return values
    }

    /// Appends rows to an extendable dataset. For a 1-D dataset every value is a row; for (n, k)
    /// `values.count` must be a multiple of k.
    public func append<T: HDF5Element>(_ values: [T]) throws {
        let dims = shape
        guard !dims.isEmpty, maxShape.first! == nil else {
            throw HDF5Error(operation: "\(location): append to a dataset that is not extendable", hdf5Message: "")
        }
        let rowSize = dims.dropFirst().reduce(1, *)
        guard rowSize > 0, values.count % rowSize == 0 else {
            throw HDF5Error(operation: "\(location): \(values.count) values are not whole rows of \(rowSize)", hdf5Message: "")
        }
        let newRows = values.count / rowSize
        if newRows == 0 { return }
        var newDims = dims.map { hsize_t($0) }
        newDims[0] += hsize_t(newRows)
        try check(H5Dset_extent(id, newDims), "extend \(location)")
        let start = [hsize_t(dims[0])] + dims.dropFirst().map { _ in hsize_t(0) }
        let counts = [hsize_t(newRows)] + dims.dropFirst().map { hsize_t($0) }
        try withHyperslab(start: start, counts: counts) { fileSpace, memSpace in
            try values.withUnsafeBufferPointer { buf in
                try check(
                    H5Dwrite(id, T.hdf5Type, memSpace, fileSpace, sbn_H5P_DEFAULT(), buf.baseAddress), "append to \(location)")
            }
        }
    }

    /// The dataspace's dimensions, validated: a damaged file can declare any rank and any size, so
    /// a rank outside HDF5's 0...32 or an element count beyond `maxElements` is an error here, and
    /// `shape` and `count` never overflow `Int`.
    private func dims() throws -> (current: [hsize_t], max: [hsize_t]) {
        let space = try check(id: H5Dget_space(id), "dataspace of \(location)")
        defer { H5Sclose(space) }
        let rank = Int(H5Sget_simple_extent_ndims(space))
        guard (0...32).contains(rank) else {
            throw HDF5Error(operation: "\(location): dataspace of rank \(rank)", hdf5Message: "")
        }
        var cur = [hsize_t](repeating: 0, count: rank)
        var mx = [hsize_t](repeating: 0, count: rank)
        if rank > 0 { try check(H5Sget_simple_extent_dims(space, &cur, &mx), "dimensions of \(location)") }
        var total: hsize_t = 1
        for d in cur {
            let (product, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, product <= Self.maxElements else {
                throw HDF5Error(
                    operation: "\(location): declares shape \(cur), more than \(Self.maxElements) elements", hdf5Message: "")
            }
            total = product
        }
        return (cur, mx)
    }

    /// The most elements a dataset may declare (2^40): far beyond any file SBNLab writes or reads.
    static let maxElements: hsize_t = 1 << 40

    /// Refuses a read whose buffer would take more than half the machine's memory, or more than the
    /// file can hold for this dataset, with an error naming the dataset, before allocating it (a
    /// declared shape is only a claim).
    private func checkAllocation<T>(_ elements: Int, of: T.Type) throws {
        let (bytes, overflow) = elements.multipliedReportingOverflow(by: MemoryLayout<T>.stride)
        guard !overflow, UInt64(bytes) <= ProcessInfo.processInfo.physicalMemory / 2 else {
            throw HDF5Error(operation: "\(location): reading \(elements) values needs more than half the memory", hdf5Message: "")
        }
        try checkStored(elements)
    }

    /// A dataset whose declared shape is larger than what the file stores for it reads back fill
    /// values beyond the stored part: SBNLab writes every element it declares, so such a shape is
    /// damage (a resized or edited extent, say 3·10^8 rows in a 600 KB file), refused before a
    /// buffer of its declared size is allocated. The stored size counts at most the file's own
    /// size, times deflate's largest expansion (1032:1, zlib's technical notes) when filtered.
    private func checkStored(_ elements: Int) throws {
        let type = H5Dget_type(id)
        guard type >= 0 else { return }  // the read itself reports the damaged type
        let elementSize = H5Tget_size(type)
        H5Tclose(type)
        var fileSize: hsize_t = 0
        guard H5Fget_filesize(file.id, &fileSize) >= 0 else { return }
        let stored = min(H5Dget_storage_size(id), fileSize)
        let expansion: hsize_t = filterCount > 0 ? 1032 : 1
        let (declared, overflow) = hsize_t(elements).multipliedReportingOverflow(by: hsize_t(elementSize))
        // 4 KB of slack: a compact layout's header and zlib's fixed overhead on tiny datasets.
        let (expanded, large) = stored.multipliedReportingOverflow(by: expansion)
        guard !overflow, large || declared <= expanded + 4096 else {
            throw HDF5Error(
                operation: "\(location): declares shape \(shape) but the file stores \(stored) bytes for it",
                hdf5Message: "")
        }
    }

    /// Filters in the dataset's pipeline (deflate, shuffle); 0 when none or unknown.
    private var filterCount: Int32 {
        let dcpl = H5Dget_create_plist(id)
        guard dcpl >= 0 else { return 0 }
        defer { H5Pclose(dcpl) }
        return max(H5Pget_nfilters(dcpl), 0)
    }

    private func withHyperslab(start: [hsize_t], counts: [hsize_t], body: (hid_t, hid_t) throws -> Void) throws {
        let fileSpace = try check(id: H5Dget_space(id), "dataspace of \(location)")
        defer { H5Sclose(fileSpace) }
        try check(H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, start, nil, counts, nil), "select rows of \(location)")
        let memSpace = try check(id: H5Screate_simple(Int32(counts.count), counts, nil), "memory space for \(location)")
        defer { H5Sclose(memSpace) }
        try body(fileSpace, memSpace)
    }
}
