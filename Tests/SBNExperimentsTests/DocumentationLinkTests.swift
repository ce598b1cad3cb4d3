import Foundation
import SBNTestSupport
import Testing

/// Every number in the README and docs links to a committed file: each relative link in
/// README.md, docs/*.md and the modules' READMEs must name a file or folder that exists in the
/// repository (a results folder that was never committed, or a moved file, fails), and the
/// README stays a page a newcomer reads (at most 150 lines).
@Suite struct DocumentationLinkTests {
    static let root = TestPaths.packageRoot

    static var documents: [String] {
        let fm = FileManager.default
        let docs = ((try? fm.contentsOfDirectory(atPath: root + "/docs")) ?? []).filter { $0.hasSuffix(".md") }.map {
            "docs/" + $0
        }
        let modules = ((try? fm.contentsOfDirectory(atPath: root + "/Sources")) ?? []).map { "Sources/\($0)/README.md" }
            .filter { fm.fileExists(atPath: root + "/" + $0) }
        return ["README.md"] + docs.sorted() + modules.sorted()
    }

    /// The relative targets of Markdown links `[text](target)` in `text`, without #anchors.
    static func relativeLinks(_ text: String) -> [String] {
        let pattern = try! NSRegularExpression(pattern: #"\]\(([^)\s]+)\)"#)
        let range = NSRange(text.startIndex..., in: text)
        return pattern.matches(in: text, range: range).compactMap { match in
            let target = String(text[Range(match.range(at: 1), in: text)!])
            if target.hasPrefix("http:") || target.hasPrefix("https:") || target.hasPrefix("mailto:") || target.hasPrefix("#") {
                return nil
            }
            return String(target.split(separator: "#", maxSplits: 1)[0])
        }
    }

    @Test(arguments: Self.documents)
    func everyLinkedFileExists(document: String) throws {
        let text = try String(contentsOfFile: Self.root + "/" + document, encoding: .utf8)
        let folder = (document as NSString).deletingLastPathComponent
        let links = Self.relativeLinks(text)
        for link in links {
            let path = ((Self.root + "/" + folder) as NSString).appendingPathComponent(link)
            #expect(
                FileManager.default.fileExists(atPath: (path as NSString).standardizingPath),
                "\(document) links to \(link), which does not exist")
        }
    }

    @Test func readmeIsShort() throws {
        let lines = try String(contentsOfFile: Self.root + "/README.md", encoding: .utf8).split(
            separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count <= 150, "README.md has \(lines.count) lines")
    }

    /// The checker itself: a link to a missing file must be found (so the test above can fail).
    @Test func checkerFindsLinks() {
        #expect(
            Self.relativeLinks("see [a](results/x/table.md#top) and [b](https://x.org) and [c](#here)") == ["results/x/table.md"])
    }
}
