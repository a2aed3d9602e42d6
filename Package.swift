// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "PixelRobustness",
  products: [
    .library(name: "PixelTensor", targets: ["PixelTensor"]),
    .executable(name: "pixelrobust", targets: ["pixelrobust"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
  ],
  targets: [
    // MARK: - System libraries
    .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),

    // MARK: - Public API
    .target(name: "PixelTensor", dependencies: ["CBLAS"]),
    .target(name: "PixelBenchmarks", dependencies: ["PixelTensor", "CBLAS"]),

    // MARK: - Command-line tool
    .target(name: "PixelRobustnessCLI", dependencies: [
      "PixelTensor", "PixelBenchmarks",
      .product(name: "ArgumentParser", package: "swift-argument-parser"),
    ]),
    .executableTarget(name: "pixelrobust", dependencies: ["PixelRobustnessCLI"]),

    // MARK: - Implementation details
    .target(name: "_TestSupport", dependencies: ["PixelTensor"]),

    // MARK: - Unit test bundles
    .testTarget(name: "PixelTensorTests", dependencies: ["PixelTensor", "_TestSupport"],
                resources: [.copy("Fixtures")]),
    .testTarget(name: "PixelRobustnessCLITests", dependencies: ["PixelRobustnessCLI", "PixelBenchmarks"]),
  ]
)
