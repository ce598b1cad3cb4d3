import CHDF5

/// The lengths a file declares for its variable-length strings, checked before they are read.
///
/// To convert one such string libhdf5 1.10 first allocates and clears a buffer of the length its
/// descriptor in the file declares (H5T__conv_vlen), a 32-bit field; only then does it read the
/// string from the global heap. A results file whose `status` descriptors were damaged made it
/// clear 2.8 GB (`make fuzz`, FuzzResults). So the descriptors are read first, unconverted,
/// through a no-op conversion to an opaque type (`sbn_vlen_descriptor_conversion` in CHDF5), and
/// the strings they declare must fit in the file, which holds every byte of them. The buffer is
/// the declared length times the size of a character, which the file's type also declares
/// (another fuzzed summary declared 167 772 161-byte characters: 13.4 GB cleared for about 80 of them).
enum VariableLengthStrings {
    /// The tag of the opaque type the descriptors are read as (the C conversion matches it).
    private static let tag = "sbnlab.vlen-descriptor"

    /// Registers the conversion once (a soft one: libhdf5 offers it only string → opaque pairs).
    private static let registered: Bool = {
        _ = hdf5Initialized
        let string = H5Tcopy(sbn_H5T_C_S1()), opaque = H5Tcreate(H5T_OPAQUE, 1)
        defer { H5Tclose(string); H5Tclose(opaque) }
        guard string >= 0, opaque >= 0, H5Tset_size(string, sbn_H5T_VARIABLE()) >= 0 else { return false }
        return H5Tregister(H5T_PERS_SOFT, "sbnlab_vlen_descriptor", string, opaque, sbn_vlen_descriptor_conversion) >= 0
    }()

    /// Throws when the `count` strings that `read` (H5Dread or H5Aread into the given type and
    /// buffer) would return declare more bytes than the file of `object` (a dataset or an
    /// attribute) has.
    static func check(
        count: Int, of object: hid_t, _ location: String, read: (hid_t, UnsafeMutableRawPointer) -> herr_t
    ) throws {
        guard count > 0 else { return }
        guard registered else { throw HDF5Error(operation: "\(location): cannot register the string check", hdf5Message: "") }
        var fileSize: hsize_t = 0, addressSize = 0, lengthSize = 0
        let file = H5Iget_file_id(object)
        defer { if file >= 0 { H5Fclose(file) } }
        let plist = file >= 0 ? H5Fget_create_plist(file) : -1
        defer { if plist >= 0 { H5Pclose(plist) } }
        guard plist >= 0, H5Fget_filesize(file, &fileSize) >= 0, H5Pget_sizes(plist, &addressSize, &lengthSize) >= 0
        else { throw HDF5Error.current("\(location): size of its file") }
        let width = 4 + addressSize + 4  // length, heap collection address, object index
        let type = H5Tcreate(H5T_OPAQUE, width)
        guard type >= 0 else { throw HDF5Error.current("\(location): descriptor type") }
        defer { H5Tclose(type) }
        H5Tset_tag(type, tag)
        var descriptors = [UInt8](repeating: 0, count: count * width)
        let status = descriptors.withUnsafeMutableBytes { read(type, $0.baseAddress!) }
        guard status >= 0 else { throw HDF5Error.current("read string lengths of \(location)") }
        var declared: UInt64 = 0
        for i in 0..<count {
            let at = i * width
            declared += (0..<4).reduce(UInt64(0)) { $0 | UInt64(descriptors[at + $1]) << (8 * UInt64($1)) }
        }
        let (bytes, overflow) = declared.multipliedReportingOverflow(by: UInt64(try characterSize(of: object, location)))
        guard !overflow, bytes <= fileSize else {
            throw HDF5Error(
                operation:
                    "\(location): its strings declare \(overflow ? "more than 2^64" : "\(bytes)") bytes, more than the file's \(fileSize)",
                hdf5Message: "")
        }
    }

    /// The size of one character of the strings of `object` (a dataset or an attribute), as its
    /// type in the file declares it (the base type of the variable-length type; 1 in a sound file).
    private static func characterSize(of object: hid_t, _ location: String) throws -> Int {
        let type = H5Iget_type(object) == H5I_ATTR ? H5Aget_type(object) : H5Dget_type(object)
        defer { if type >= 0 { H5Tclose(type) } }
        let base = type >= 0 ? H5Tget_super(type) : -1
        defer { if base >= 0 { H5Tclose(base) } }
        let size = base >= 0 ? H5Tget_size(base) : 0
        guard size > 0 else { throw HDF5Error.current("\(location): the character type of its strings") }
        return size
    }
}
