// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "PixelRobustness",
  products: [
    .library(name: "PixelRobustness", targets: ["PixelTensor", "PixelMasks", "PixelNN", "PixelImaging", "PixelData",
                                               "PixelTraining", "PixelAttacks", "PixelAnalysis", "PixelDefenses",
                                               "PixelONNX", "PixelCluster"]),
    .executable(name: "pixelrobust", targets: ["pixelrobust"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // ONNX model files are protobuf; the generated onnx.pb.swift is committed (scripts/generate_onnx_proto.sh).
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // MARK: - System libraries
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
    .systemLibrary(name: "CTurboJPEG", pkgConfig: "libturbojpeg", providers: [.apt(["libturbojpeg0-dev"])]),
    .systemLibrary(name: "CMPI", pkgConfig: "ompi-c", providers: [.apt(["libopenmpi-dev"])]),
    // MPI's handles are C macros: a few plain C functions wrap the calls data-parallel training makes.
    .target(name: "CMPIShim", dependencies: ["CMPI"]),
    // Direct convolution and a row-deterministic GEMM: AVX2 + FMA chosen at run time, portable C
    // otherwise, the same bits either way; and the spinning worker pool of the parallel loops.
    .target(name: "CKernels"),

    // MARK: - Public API
    // Each target declares exactly the modules it imports (checked by PackageManifestTests).
    .target(name: "PixelTensor", dependencies: ["CBLAS", "CKernels"], exclude: ["README.md"]),
    .target(name: "PixelMasks", dependencies: ["PixelTensor"], exclude: ["README.md"]),
    .target(name: "PixelNN", dependencies: ["PixelTensor"], exclude: ["README.md"]),
    .target(name: "PixelImaging", dependencies: ["PixelTensor", "CPNG", "CTurboJPEG"], exclude: ["README.md"]),
    .target(name: "PixelData", dependencies: ["PixelTensor", "PixelImaging", "CZlib"], exclude: ["README.md"]),
    .target(name: "PixelTraining", dependencies: ["PixelTensor", "PixelNN", "PixelData"], exclude: ["README.md"]),
    .target(name: "PixelAttacks", dependencies: ["PixelTensor", "PixelNN", "PixelData"], exclude: ["README.md"]),
    .target(name: "PixelAnalysis", dependencies: ["PixelTensor", "PixelMasks", "PixelNN", "PixelImaging", "PixelData",
                                                  "PixelAttacks"], exclude: ["README.md"]),
    .target(name: "PixelDefenses", dependencies: ["PixelTensor", "PixelMasks", "PixelNN", "PixelImaging", "PixelData",
                                                  "PixelTraining", "PixelAttacks", "PixelAnalysis"], exclude: ["README.md"]),
    .target(name: "PixelONNX", dependencies: ["PixelTensor", "PixelNN",
                                              .product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"]),
    .target(name: "PixelCluster", dependencies: ["PixelTensor", "PixelData", "PixelTraining", "CMPIShim"], exclude: ["README.md"]),
    .target(name: "PixelBenchmarks", dependencies: ["CBLAS", "PixelTensor", "PixelNN", "PixelData", "PixelTraining",
                                                    "PixelAttacks", "PixelAnalysis", "PixelDefenses", "PixelONNX"]),

    // MARK: - Fuzzing (libFuzzer targets; `make fuzz` builds them with -sanitize=fuzzer,address)
    .target(name: "PixelFuzzTargets", dependencies: ["PixelTensor", "PixelNN", "PixelImaging", "PixelData", "PixelDefenses",
                                                    "PixelONNX", "PixelAttacks", "PixelTraining"]),
    .executableTarget(name: "FuzzIDX", dependencies: ["PixelFuzzTargets"]),
    .executableTarget(name: "FuzzCIFAR", dependencies: ["PixelFuzzTargets"]),
    .executableTarget(name: "FuzzPNG", dependencies: ["PixelFuzzTargets"]),
    .executableTarget(name: "FuzzSafeTensors", dependencies: ["PixelFuzzTargets"]),
    .executableTarget(name: "FuzzNumPy", dependencies: ["PixelFuzzTargets"]),
    .executableTarget(name: "FuzzModelSpec", dependencies: ["PixelFuzzTargets"]),
    .executableTarget(name: "FuzzCheckpoint", dependencies: ["PixelFuzzTargets"]),
    .executableTarget(name: "FuzzONNX", dependencies: ["PixelFuzzTargets"]),
    .executableTarget(name: "FuzzJPEG", dependencies: ["PixelFuzzTargets"]),
    .executableTarget(name: "FuzzMerge", dependencies: ["PixelFuzzTargets"]),

    // MARK: - Command-line tool
    .target(name: "PixelRobustnessCLI", dependencies: [
      "PixelTensor", "PixelMasks", "PixelNN", "PixelImaging", "PixelData", "PixelTraining", "PixelAttacks",
      "PixelAnalysis", "PixelDefenses", "PixelBenchmarks", "PixelONNX", "PixelCluster",
      .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
    .executableTarget(name: "pixelrobust", dependencies: ["PixelRobustnessCLI"]),

    // MARK: - Implementation details
    .target(name: "_TestSupport", dependencies: ["PixelTensor", "PixelData"], resources: [.copy("Fixtures")]),

    // MARK: - Unit test bundles
    .testTarget(name: "PixelTensorTests", dependencies: ["PixelTensor", "CKernels", "_TestSupport"],
                resources: [.copy("Fixtures")]),
    .testTarget(name: "PixelMasksTests", dependencies: ["PixelMasks", "PixelTensor"]),
    .testTarget(name: "PixelNNTests", dependencies: ["PixelNN", "PixelTensor", "_TestSupport"]),
    .testTarget(name: "PixelTrainingTests", dependencies: ["PixelTraining", "PixelNN", "PixelData", "PixelTensor",
                                                          "_TestSupport"]),
    .testTarget(name: "PixelImagingTests", dependencies: ["PixelImaging", "PixelTensor", "_TestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "PixelDataTests", dependencies: ["PixelData", "PixelImaging", "PixelTensor", "_TestSupport"]),
    .testTarget(name: "PixelAttacksTests", dependencies: ["PixelAttacks", "PixelMasks", "PixelNN", "PixelData",
                                                         "PixelTensor", "PixelTraining", "_TestSupport"],
                resources: [.copy("Fixtures")]),
    .testTarget(name: "PixelAnalysisTests", dependencies: ["PixelAnalysis", "PixelAttacks", "PixelData",
                                                          "PixelImaging", "PixelNN", "PixelTensor", "PixelTraining",
                                                          "_TestSupport"]),
    .testTarget(name: "PixelDefensesTests", dependencies: ["PixelDefenses", "PixelMasks", "PixelAnalysis", "PixelAttacks",
                                                          "PixelData", "PixelNN", "PixelTensor", "PixelTraining",
                                                          "_TestSupport"],
                resources: [.copy("Fixtures")]),
    .testTarget(name: "PixelONNXTests", dependencies: ["PixelONNX", "PixelNN", "PixelTensor", "_TestSupport"],
                resources: [.copy("Fixtures")]),
    .testTarget(name: "PixelClusterTests", dependencies: ["PixelCluster", "_TestSupport"]),
    .testTarget(name: "PixelFuzzTargetsTests", dependencies: ["PixelFuzzTargets"], exclude: ["Corpus"]),
    .testTarget(name: "PixelRobustnessCLITests", dependencies: ["PixelRobustnessCLI", "PixelAttacks", "PixelBenchmarks",
                                                               "PixelDefenses", "PixelData", "PixelTensor", "PixelTraining",
                                                               "_TestSupport",
                                                               .product(name: "ArgumentParser", package: "swift-argument-parser")]),
  ]
)
