import Foundation
import Testing
import PixelData
import PixelTensor
import _TestSupport

/// A gradient map is a function of the model and the images only: not of the batch size, the
/// OpenBLAS kernel type or the instruction set of our own kernels (issue #11's
/// position-independence item, checked on the tool as a user runs it).
@Suite("Gradient maps are bit-identical across batch sizes, OpenBLAS core types and kernel paths", .serialized)
struct MapReproducibilityTests {
  /// 28×28 images: a constant background around a random 10×10 patch, whose max-pool windows tie
  /// exactly — the case where rounding that depended on a column's place used to move the map.
  static func backgroundFolder(_ n: Int) throws -> URL {
    let dir = temporaryPath("maps")
    var rng = SeededGenerator(seed: 5)
    var pixels = [UInt8](repeating: 40, count: n * 28 * 28)
    for i in 0..<n { for y in 9..<19 { for x in 9..<19 { pixels[(i * 28 + y) * 28 + x] = UInt8(rng.next() % 256) } } }
    let labels = (0..<n).map { UInt8($0 % 10) }
    for split in ["train", "t10k"] {
      try IDX.write(dims: [n, 28, 28], bytes: pixels, to: dir.appendingPathComponent("\(split)-images-idx3-ubyte"))
      try IDX.write(dims: [n], bytes: labels, to: dir.appendingPathComponent("\(split)-labels-idx1-ubyte"))
    }
    return dir
  }

  @Test("a trained small CNN's map: batch 64 with the machine's kernels = batch 7 under Haswell = batch 5 portable")
  func identicalMaps() throws {
    let tool = CrashSafetyTests.tool.path
    try #require(FileManager.default.isExecutableFile(atPath: tool), "build the tool first: \(tool)")
    let data = try Self.backgroundFolder(64)
    defer { try? FileManager.default.removeItem(at: data) }
    let model = data.appendingPathComponent("m.safetensors")
    // Neither variable inherited: each run below sets only its own.
    let clean: [String: String?] = ["PIXELROBUST_KERNELS": nil, "OPENBLAS_CORETYPE": nil]
    let trained = try CrashSafetyTests.run(["train", "--data", "idx:\(data.path)", "--arch", "small-cnn",
                                            "--epochs", "1", "--batch-size", "16", "--seed", "3", "--output", model.path],
                                           environment: clean)
    try #require(trained.status == 0, "\(trained.stderr)")
    let runs: [(batch: Int, environment: [String: String?])] = [
      (64, [:]), (7, ["OPENBLAS_CORETYPE": "Haswell"]), (5, ["PIXELROBUST_KERNELS": "portable"]),
    ]
    var maps: [Data] = []
    for (i, r) in runs.enumerated() {
      let out = data.appendingPathComponent("map\(i)")
      let result = try CrashSafetyTests.run(["gradient-map", "--model", model.path, "--data", "idx:\(data.path)",
                                             "--batch-size", "\(r.batch)", "--output", out.path],
                                            environment: clean.merging(r.environment) { $1 })
      try #require(result.status == 0, "\(result.stderr)")
      maps.append(try Data(contentsOf: out.appendingPathComponent("G.npy")))
    }
    #expect(maps[0].count > 28 * 28 * 4)
    #expect(maps[1] == maps[0], "OpenBLAS Haswell kernels at batch 7 changed the map")
    #expect(maps[2] == maps[0], "the portable kernels at batch 5 changed the map")
  }
}
