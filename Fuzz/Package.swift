// swift-tools-version:6.0
// libFuzzer targets for SBNLab's readers of files it did not write itself (issue 21): results and
// summaries, checkpoints, datasets, experiment definitions with --set values. A separate package,
// built only with `-sanitize=fuzzer` by `make fuzz` (scripts/fuzz.sh), so the test build never
// compiles them. Each target is a dynamic library exporting LLVMFuzzerTestOneInput, linked by the
// script into a libFuzzer executable (SwiftPM's executables bring their own main, which would
// replace libFuzzer's). The function must return for every input: a trap, abort or sanitizer
// report is a crash, saved under Fuzz/crashes/ and made a regression test.
import PackageDescription

let fuzzTargets = ["FuzzResults", "FuzzCheckpoint", "FuzzDataset", "FuzzConfig"]

func target(_ name: String) -> Target {
    .target(name: name, dependencies: ["FuzzSupport", .product(name: "SBNLab", package: "SBNLab")], path: "Targets/\(name)")
}

let package = Package(
    name: "SBNLabFuzz",
    products: fuzzTargets.map { .library(name: $0, type: .dynamic, targets: [$0]) },
    dependencies: [.package(name: "SBNLab", path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "SBNLab", package: "SBNLab")], path: "Targets/FuzzSupport")
    ] + fuzzTargets.map(target) + []
)
