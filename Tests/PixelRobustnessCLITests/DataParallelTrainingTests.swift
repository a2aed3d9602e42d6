import Foundation
import Testing
import PixelTensor

/// `mpirun -n 2 pixelrobust train` against one process on the same global batches.
@Suite("MPI data-parallel training", .serialized)
struct DataParallelTrainingTests {
  static let mpirun = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

  /// Runs `arguments` (the tool first) and returns its status and standard error.
  static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    let errors = Pipe()
    p.standardError = errors
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
  }

  /// The largest |Δ| between two checkpoints' tensors, which must have the same names and shapes.
  static func largestDifference(_ a: URL, _ b: URL) throws -> Float {
    let x = try SafeTensors.read(from: a).tensors, y = try SafeTensors.read(from: b).tensors
    #expect(x.keys.sorted() == y.keys.sorted())
    return try x.keys.map { key in
      let (u, v) = (x[key]!, try #require(y[key]))
      #expect(u.shape == v.shape, "\(key)")
      return zip(u.scalars, v.scalars).map { Swift.abs($0 - $1) }.max() ?? 0
    }.max() ?? 0
  }

  static func trainLosses(_ checkpoint: URL) throws -> [Double] {
    let log = checkpoint.deletingPathExtension().appendingPathExtension("log.jsonl")
    return try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map { line in
      let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
      return try #require(object?["trainLoss"] as? Double)
    }
  }

  @Test("two ranks train the weights one process trains on the same global batches (uneven slices, a short last batch), and resume")
  func twoRanksEqualOneProcess() throws {
    let mpirun = try #require(Self.mpirun, "mpirun is not installed (make setup installs openmpi-bin)")
    let tool = CrashSafetyTests.tool.path
    try #require(FileManager.default.isExecutableFile(atPath: tool), "build the tool first: \(tool)")
    let data = try CrashSafetyTests.idxFolder(200)
    let out = data.appendingPathComponent("runs")
    // 200 images in global batches of 33: slices of 16 and 17, and a last batch of 2.
    let common = ["train", "--data", "idx:\(data.path)", "--arch", "mlp", "--hidden", "32", "--batch-size", "33",
                  "--optimizer", "sgd", "--lr", "0.05", "--seed", "4"]
    let ranks = [mpirun, "--allow-run-as-root", "--oversubscribe", "-n", "2", tool]
    let one = out.appendingPathComponent("one/m.safetensors"), two = out.appendingPathComponent("two/m.safetensors")
    let single = try Self.run(tool, common + ["--epochs", "3", "--output", one.path])
    #expect(single.status == 0, "\(single.stderr)")
    // Two ranks: two epochs, then a resumed third.
    let first = try Self.run(ranks[0], Array(ranks.dropFirst()) + common + ["--epochs", "2", "--output", two.path])
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stderr.contains("data-parallel training on 2 MPI ranks"))
    let resumed = try Self.run(ranks[0], Array(ranks.dropFirst()) + common + ["--epochs", "3", "--resume", "--output", two.path])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let difference = try Self.largestDifference(one, two)
    // Float sums of the two slices' weighted gradients against one batch's: rounding only.
    #expect(difference < 1e-5, "max |Δw| = \(difference)")
    let (a, b) = (try Self.trainLosses(one), try Self.trainLosses(two))
    #expect(a.count == 3 && b.count == 3)
    for (x, y) in zip(a, b) { #expect(Swift.abs(x - y) < 1e-5, "train loss \(x) against \(y)") }
  }
}
