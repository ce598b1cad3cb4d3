import SBNData
import Testing

@Suite struct SHA256Tests {
    /// FIPS 180-4 / NIST example vectors.
    @Test func matchesTheNISTVectors() {
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func incrementalUpdatesEqualOneShot() {
        let data = (0..<1000).map { UInt8($0 % 251) }
        var s = SHA256()
        s.update(data[0..<7]); s.update(data[7..<600]); s.update(data[600...])
        #expect(s.finalizeHex() == SHA256.hex(data))
    }

    /// The download path cannot run here (no network), so its verification step is tested alone:
    /// the raw `.amat` checksum that a download is checked against matches the genuine content.
    @Test func verificationAcceptsGenuineAndRejectsAlteredContent() throws {
        #expect(throws: Never.self) { try Checksums.verify(Array("abc".utf8), expected: SHA256.hex(Array("abc".utf8)), file: "x") }
        do {
            try Checksums.verify(Array("abd".utf8), expected: SHA256.hex(Array("abc".utf8)), file: "downloads/x.amat")
            Issue.record("altered content must be rejected")
        } catch let e as DataError {
            #expect(e.description.hasPrefix("downloads/x.amat: sha256 mismatch"))
        }
    }
}
