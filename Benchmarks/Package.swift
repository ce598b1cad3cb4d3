// swift-tools-version:6.1
// Speed benchmarks for SBNLab (ordo-one/benchmark). A separate package so that the test build
// does not compile the benchmark harness. Run: `make bench` (release build).
import PackageDescription

let package = Package(
    name: "SBNLabBenchmarks",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "SBNLab", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "SBNBenchmarks",
            dependencies: [.product(name: "SBNLab", package: "SBNLab"), .product(name: "Benchmark", package: "benchmark")],
            path: "Benchmarks/SBNBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
