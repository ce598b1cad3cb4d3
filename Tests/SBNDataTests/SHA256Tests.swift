import Foundation
import SBNData
import SBNTestSupport
import Testing

@Suite struct SHA256Tests {
    /// FIPS 180-4 / NIST example vectors.
    @Test func matchesTheNISTVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalUpdatesEqualOneShot() {
        let data = (0..<1000).map { UInt8($0 % 251) }
        var s = SHA256()
        s.update(data[0..<7]); s.update(data[7..<600]); s.update(data[600...])
        #expect(s.finalizeHex() == SHA256.hex(data))
    }

    /// The download path cannot run here (no network), so its verification step is tested alone,
    /// on a genuine file against the sha256 printed in ../shared/data/PROVENANCE.md (a literal,
    /// not a hash computed by the code under test).
    @Test func verificationAcceptsGenuineAndRejectsAlteredContent() throws {
        let path = TestPaths.sharedData + "/mnist/t10k-labels-idx1-ubyte.gz"
        let genuine = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        let published = "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
        #expect(throws: Never.self) { try Checksums.verify(genuine, expected: published, file: path) }
        var altered = genuine
        altered[genuine.count / 2] ^= 1
        do {
            try Checksums.verify(altered, expected: published, file: "downloads/x.gz")
            Issue.record("altered content must be rejected")
        } catch let e as DataError {
            #expect(e.description.hasPrefix("downloads/x.gz: sha256 mismatch"))
        }
    }
}
