// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "PixelRobustness",
  products: [
    .library(name: "PixelRobustness", targets: ["PixelTensor", "PixelNN", "PixelImaging", "PixelData", "PixelTraining",
                                               "PixelAttacks", "PixelAnalysis", "PixelDefenses"]),
    .executable(name: "pixelrobust", targets: ["pixelrobust"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - System libraries
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
    .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

    // MARK: - Public API
    .target(name: "PixelTensor", dependencies: ["CBLAS"]),
    .target(name: "PixelNN", dependencies: ["PixelTensor"]),
    .target(name: "PixelImaging", dependencies: ["PixelTensor", "CPNG"]),
    .target(name: "PixelData", dependencies: ["PixelTensor", "PixelImaging", "CZlib"]),
    .target(name: "PixelTraining", dependencies: ["PixelNN", "PixelData"]),
    .target(name: "PixelAttacks", dependencies: ["PixelNN", "PixelData"]),
    .target(name: "PixelAnalysis", dependencies: ["PixelAttacks", "PixelData", "PixelImaging"]),
    .target(name: "PixelDefenses", dependencies: ["PixelAnalysis", "PixelTraining"]),
    .target(name: "PixelBenchmarks", dependencies: ["PixelTensor", "PixelNN", "PixelTraining", "PixelAnalysis", "CBLAS"]),

    // MARK: - Command-line tool
    .target(name: "PixelRobustnessCLI", dependencies: [
      "PixelTensor", "PixelNN", "PixelImaging", "PixelData", "PixelTraining", "PixelAttacks", "PixelAnalysis",
      "PixelDefenses", "PixelBenchmarks",
      .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
    .executableTarget(name: "pixelrobust", dependencies: ["PixelRobustnessCLI"]),

    // MARK: - Implementation details
    .target(name: "_TestSupport", dependencies: ["PixelTensor"]),

    // MARK: - Unit test bundles
    .testTarget(name: "PixelTensorTests", dependencies: ["PixelTensor", "_TestSupport"],
                resources: [.copy("Fixtures")]),
    .testTarget(name: "PixelNNTests", dependencies: ["PixelNN", "_TestSupport"], resources: [.copy("Fixtures")]),
    .testTarget(name: "PixelTrainingTests", dependencies: ["PixelTraining"]),
    .testTarget(name: "PixelImagingTests", dependencies: ["PixelImaging"]),
    .testTarget(name: "PixelDataTests", dependencies: ["PixelData"]),
    .testTarget(name: "PixelAttacksTests", dependencies: ["PixelAttacks", "PixelTraining"], resources: [.copy("Fixtures")]),
    .testTarget(name: "PixelAnalysisTests", dependencies: ["PixelAnalysis", "PixelTraining"]),
    .testTarget(name: "PixelDefensesTests", dependencies: ["PixelDefenses", "_TestSupport"]),
    .testTarget(name: "PixelRobustnessCLITests", dependencies: ["PixelRobustnessCLI", "PixelBenchmarks"]),
  ]
)
