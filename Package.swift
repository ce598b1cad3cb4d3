// swift-tools-version:6.0
// SBNLab: stochastic binary networks and their gradient estimators, on OpenBLAS and HDF5.
import PackageDescription

/// A library module; each keeps a short README.md beside its sources.
func module(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .target(name: name, dependencies: dependencies, exclude: ["README.md"])
}

let numerics = Target.Dependency.product(name: "RealModule", package: "swift-numerics")

/// Every module of the framework (what the SBNLab library re-exports).
let frameworkModules: [Target.Dependency] = [
    "SBNTensor", "SBNStorage", "SBNOptions", "SBNDistributions", "SBNData", "SBNModel",
    "SBNEstimators", "SBNConfig", "SBNEvents", "SBNTraining", "SBNSweeps", "SBNBench", "SBNFigures", "SBNDiagnostics",
]

let package = Package(
    name: "SBNLab",
    products: [
        .library(name: "SBNLab", targets: ["SBNLab"]),
        .executable(name: "sbnlab", targets: ["sbnlab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    ],
    targets: [
        // Native bindings: system libraries found through pkg-config, with shim headers for what
        // Swift cannot import.
        .systemLibrary(
            name: "CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"]), .brew(["openblas"]), .yum(["openblas-devel"])]),
        .systemLibrary(
            name: "CHDF5", pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"]), .brew(["hdf5"]), .yum(["hdf5-devel"])]),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"]), .brew(["zlib"]), .yum(["zlib-devel"])]),

        // Hot elementwise kernels in C: one source built for portable/AVX2/AVX-512, picked at run time.
        .target(name: "CKernels", exclude: ["README.md"]),
        .target(name: "CProcess"),
        module("SBNTensor", ["CBLAS", "CKernels", numerics, .product(name: "Atomics", package: "swift-atomics")]),
        module("SBNStorage", ["CHDF5"]),
        module("SBNOptions", []),
        module("SBNEvents", []),
        module("SBNDistributions", ["SBNTensor", numerics]),
        module("SBNData", ["CZlib", "CKernels", "SBNStorage", "SBNTensor", "SBNDistributions"]),
        module(
            "SBNModel",
            [
                "SBNTensor", "SBNDistributions", "SBNOptions", numerics,
                .product(name: "Atomics", package: "swift-atomics"),
            ]),
        module("SBNEstimators", ["SBNModel", "SBNTensor", "SBNDistributions", "SBNOptions"]),
        module(
            "SBNConfig",
            ["SBNEstimators", "SBNModel", "SBNData", "SBNOptions", "CProcess", .product(name: "Yams", package: "Yams")]),
        module(
            "SBNTraining",
            [
                "SBNConfig", "SBNDiagnostics", "SBNEvents", "SBNEstimators", "SBNModel", "SBNData", "SBNStorage", "SBNTensor",
                "SBNDistributions", "SBNOptions", "CProcess", numerics, .product(name: "Atomics", package: "swift-atomics"),
            ]),
        module("SBNSweeps", ["SBNConfig", "SBNTraining", "SBNStorage", .product(name: "Yams", package: "Yams")]),
        module(
            "SBNBench",
            [
                "SBNConfig", "SBNEvents", "SBNTraining", "SBNModel", "SBNData", "SBNTensor", "SBNDistributions",
                .product(name: "Atomics", package: "swift-atomics"),
            ]),
        module("SBNFigures", ["CZlib", "SBNModel", "SBNData", "SBNDistributions", "SBNStorage", "SBNTensor"]),
        module("SBNDiagnostics", ["SBNEstimators", "SBNModel", "SBNOptions", "SBNStorage", "SBNTensor", "SBNDistributions"]),
        .target(name: "SBNLab", dependencies: frameworkModules),
        // The framework's modules are listed here too, not only through SBNLab's re-exports: with
        // SBNLab alone, SwiftPM did not recompile sbnlab when a struct of SBNTraining changed its
        // layout (SBNLab's module file was unchanged), and the stale executable corrupted memory.
        .executableTarget(
            name: "sbnlab",
            dependencies: [
                "SBNLab", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ] + frameworkModules),

        .target(name: "SBNTestSupport", dependencies: ["SBNData", "SBNStorage"], path: "Tests/SBNTestSupport"),
        .testTarget(name: "SBNTensorTests", dependencies: ["SBNTensor", "CKernels"]),
        .testTarget(name: "SBNStorageTests", dependencies: ["SBNStorage", "SBNTestSupport"]),
        .testTarget(name: "SBNDistributionsTests", dependencies: ["SBNDistributions", "SBNTensor", "CKernels", numerics]),
        .testTarget(name: "SBNDataTests", dependencies: ["SBNData", "SBNStorage", "SBNTestSupport"]),
        .testTarget(
            name: "SBNEstimatorsTests",
            dependencies: [
                "SBNEstimators", "SBNModel", "SBNTensor", "SBNDistributions",
                "SBNOptions", "SBNDiagnostics",
            ]),
        .testTarget(
            name: "SBNExperimentsTests",
            dependencies: [
                "SBNConfig", "SBNTraining", "SBNSweeps", "SBNEstimators", "SBNModel", "SBNOptions", "SBNData", "SBNStorage",
                "SBNFigures", "SBNEvents", "SBNTestSupport", .product(name: "Yams", package: "Yams"),
            ]),
    ]
)
