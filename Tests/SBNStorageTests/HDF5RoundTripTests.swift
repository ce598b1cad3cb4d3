import Foundation
import SBNStorage
import SBNTestSupport
import Testing

@Suite struct HDF5RoundTripTests {
    let dir = TestPaths.temporaryDirectory(prefix: "hdf5")

    func roundTrip<T: HDF5Element & Equatable>(_ values: [T], shape: [Int], in file: HDF5File, name: String) throws {
        try file.write(name, values, shape: shape, chunks: shape.map { max(1, $0 / 2) }, compression: 4)
        let ds = try file.dataset(name)
        #expect(ds.shape == shape)
        #expect(ds.chunks == shape.map { max(1, $0 / 2) })
        #expect(try ds.read(as: T.self) == values)
    }

    @Test func everyDtypeRoundTripsChunkedAndCompressed() throws {
        let path = dir + "/dtypes.h5"
        do {
            let f = try HDF5File.create(path)
            let g = try f.createGroup("g")
            _ = g
            try roundTrip((0..<60).map { UInt8($0 % 2) }, shape: [6, 10], in: f, name: "u8")
            try roundTrip((0..<60).map { Int32($0) - 30 }, shape: [6, 10], in: f, name: "i32")
            try roundTrip((0..<60).map { Int64($0) << 40 }, shape: [60], in: f, name: "i64")
            try roundTrip((0..<60).map { Float($0) / 7 }, shape: [3, 20], in: f, name: "g/f32")
            try roundTrip((0..<60).map { Double($0) / 3 }, shape: [60], in: f, name: "f64")
        }
        let f = try HDF5File.open(path)
        #expect(try f.childNames() == ["f64", "g", "i32", "i64", "u8"])
        #expect(f.isGroup("g") && !f.isGroup("u8"))
        #expect(try f.dataset("g/f32").read(as: Float.self)[7] == Float(7) / 7)
        #expect(try f.dataset("u8").readRows(2..<4, as: UInt8.self) == (20..<40).map { UInt8($0 % 2) })
    }

    @Test func extendableDatasetsGrowByAppendingRows() throws {
        let path = dir + "/append.h5"
        do {
            let f = try HDF5File.create(path)
            let one = try f.createExtendable("loss", of: Double.self, chunkRows: 4)
            let two = try f.createExtendable("rows", of: Float.self, columns: 3, chunkRows: 4)
            for i in 0..<10 {
                try one.append([Double(i)])
                try two.append([Float(i), Float(i) + 0.5, -Float(i)])
            }
            try one.append([10, 11])
            #expect(throws: HDF5Error.self) { try two.append([Float(1), 2]) }  // not whole rows
        }
        let f = try HDF5File.open(path)
        #expect(try f.dataset("loss").read(as: Double.self) == (0..<12).map(Double.init))
        #expect(try f.dataset("rows").shape == [10, 3])
        #expect(try f.dataset("rows").maxShape == [nil, 3])
        #expect(try f.dataset("rows").readRows(9..<10, as: Float.self) == [9, 9.5, -9])
    }

    @Test func attributesRoundTrip() throws {
        let path = dir + "/attrs.h5"
        do {
            let f = try HDF5File.create(path)
            try f.setAttribute("name", "Gumbel–Softmax τ")
            try f.setAttribute("seed", Int64(-42))
            try f.setAttribute("nll", 58.5)
            try f.setAttribute("sizes", [Int32(392), 200, 200, 392])
            try f.setAttribute("name", "replaced")
            let d = try f.write("x", [Float(1)])
            try d.setAttribute("samples", Int64(1000))
        }
        let f = try HDF5File.open(path)
        #expect(try f.stringAttribute("name") == "replaced")
        #expect(try f.attribute("seed", as: Int64.self) == -42)
        #expect(try f.attribute("nll", as: Double.self) == 58.5)
        #expect(try f.attributeArray("sizes", as: Int32.self) == [392, 200, 200, 392])
        #expect(try f.dataset("x").attribute("samples", as: Int64.self) == 1000)
        #expect(Set(try f.attributeNames()) == ["name", "seed", "nll", "sizes"])
    }

    @Test func errorsCarryHDF5Messages() throws {
        let missing = dir + "/missing.h5"
        do {
            _ = try HDF5File.open(missing)
            Issue.record("opening a missing file should fail")
        } catch let e as HDF5Error {
            // Said before libhdf5 is asked: its own message for a missing file does not say so.
            #expect(e.description == "\(missing): cannot open (No such file or directory)")
        }
        let notHDF5 = dir + "/text.h5"
        try "not an HDF5 file".write(toFile: notHDF5, atomically: true, encoding: .utf8)
        do {
            _ = try HDF5File.open(notHDF5)
            Issue.record("opening a text file should fail")
        } catch let e as HDF5Error {
            #expect(e.description.contains(notHDF5))
            #expect(!e.hdf5Message.isEmpty, "HDF5's own message: \(e)")
        }
        let f = try HDF5File.create(dir + "/e.h5")
        #expect(throws: HDF5Error.self) { _ = try f.dataset("nope") }
        #expect(throws: HDF5Error.self) { _ = try f.stringAttribute("nope") }
    }

    @Test func atomicWriteLeavesNothingBehindOnFailure() throws {
        let path = dir + "/atomic.h5"
        try AtomicFile.writeHDF5(to: path) { try $0.setAttribute("version", Int64(1)) }
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try AtomicFile.writeHDF5(to: path) { f in
                try f.setAttribute("version", Int64(2))
                throw Boom()
            }
        }
        #expect(try HDF5File.open(path).attribute("version", as: Int64.self) == 1)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.contains(".tmp") }
        #expect(leftovers.isEmpty)
    }

    /// The interop contract: a file written here opens in h5py with the same values, dtypes,
    /// compression, maxshape and `str` attributes.
    @Test(.enabled(if: hasPythonWithH5py, "python3 with h5py is not available (.ci/run installs it)"))
    func h5pyReadsWhatWeWrite() throws {
        let path = dir + "/interop.h5"
        do {
            let f = try HDF5File.create(path)
            try f.write("images", (0..<784 * 3).map { UInt8($0 % 2) }, shape: [3, 784], chunks: [2, 784], compression: 4)
            try f.createGroup("m").write("w", [Float(0.5), -1.25, 3e-8], shape: [3])
            let loss = try f.group("m").createExtendable("loss", of: Double.self)
            try loss.append([1.5, 2.5])
            try f.setAttribute("config", "{\"tau\": 1}")
            try f.setAttribute("seed", Int64(7))
        }
        let script = """
            import h5py, numpy as np, json
            f = h5py.File('\(path)', 'r')
            assert f['images'].dtype == np.uint8 and f['images'].shape == (3, 784)
            assert f['images'].compression == 'gzip' and f['images'].chunks == (2, 784)
            assert (f['images'][:].ravel() == np.arange(784*3) % 2).all()
            assert f['m/w'].dtype == np.float32 and list(f['m/w'][:]) == [np.float32(0.5), np.float32(-1.25), np.float32(3e-8)]
            assert f['m/loss'].maxshape == (None,) and list(f['m/loss'][:]) == [1.5, 2.5]
            assert isinstance(f.attrs['config'], str) and json.loads(f.attrs['config']) == {'tau': 1}
            assert int(f.attrs['seed']) == 7
            print('ok')
            """
        let r = try runCommand("/usr/bin/env", ["python3", "-c", script])
        #expect(r.status == 0, "h5py: \(r.stderr)")
        #expect(r.stdout.contains("ok"))
    }

    /// The superblock check before libhdf5 opens a file (`Superblock`) accepts what other writers
    /// make: h5py's default (version 0), its newest format (version 3, checksummed), the 1.8
    /// format (version 2) and a 512-byte user block before the superblock.
    @Test(.enabled(if: hasPythonWithH5py, "python3 with h5py is not available (.ci/run installs it)"))
    func superblockCheckAcceptsOtherWriters() throws {
        let script = """
            import h5py, numpy as np, sys
            for name, options in [('plain', {}), ('latest', {'libver': 'latest'}), ('v18', {'libver': ('v108', 'v108')}),
                                  ('userblock', {'userblock_size': 512})]:
                with h5py.File(sys.argv[1] + '/' + name + '.h5', 'w', **options) as f:
                    f.create_dataset('x', data=np.arange(5.0))
            """
        let r = try runCommand("/usr/bin/env", ["python3", "-c", script, dir])
        #expect(r.status == 0, "h5py: \(r.stderr)")
        var versions: Set<UInt8> = []
        for name in ["plain", "latest", "v18", "userblock"] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).h5"))
            versions.insert(bytes[name == "userblock" ? 520 : 8])
            #expect(try HDF5File.open(dir + "/\(name).h5").dataset("x").read(as: Double.self) == [0, 1, 2, 3, 4], "\(name)")
        }
        #expect(versions == [0, 2, 3])
    }

    /// A superblock pointing outside its file is refused with one message before libhdf5 reads it.
    @Test func superblockPointingOutsideTheFileIsRefused() throws {
        let path = dir + "/small.h5"
        do { try HDF5File.create(path).write("x", [1.0, 2.0], shape: [2]) }
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes.replaceSubrange(40..<48, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian, Array.init))
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect {
            try HDF5File.open(path)
        } throws: {
            "\($0)" == "\(path): damaged HDF5 superblock: end of file at 1099511627776, but the file has \(bytes.count) bytes"
        }
    }
}
