import Foundation
import Testing
import _TestSupport
import PixelData
import PixelTensor
import PixelNN
@testable import PixelTraining

@Suite("Training: convergence, reproducibility, resume, evaluation")
struct TrainingTests {
  static func halves(_ n: Int, seed: UInt64) -> Dataset { SyntheticData.halves(n, seed: seed, size: 6) }

  static let spec = ModelSpec(input: [1, 6, 6], classes: 2, layers: [
    LayerSpec(type: "conv2d", name: "conv", out: 4, kernel: 3), LayerSpec(type: "relu"),
    LayerSpec(type: "maxpool2d", kernel: 2), LayerSpec(type: "flatten"), LayerSpec(type: "dropout", p: 0.1),
    LayerSpec(type: "linear", name: "fc", out: 2)])

  func settings(epochs: Int) -> TrainingSettings {
    TrainingSettings(data: "synthetic", epochs: epochs, batchSize: 16, optimizer: .adam, learningRate: 0.02, seed: 5)
  }

  @Test("a tiny CNN learns a separable task in a few epochs", .timeLimit(.minutes(1)))
  func converges() throws {
    let dir = temporaryPath("train")
    let job = TrainingJob(spec: Self.spec, settings: settings(epochs: 4), output: dir.appendingPathComponent("m.safetensors"))
    let (model, reports) = try job.run(train: Self.halves(192, seed: 1), test: Self.halves(64, seed: 2), resume: false)
    #expect(reports.count == 4)
    #expect(reports.last!.trainLoss < reports.first!.trainLoss)
    #expect(reports.last!.testAccuracy! >= 0.95)
    let (eval, logits) = evaluate(model, on: Self.halves(64, seed: 3))
    #expect(logits.shape == [64, 2])
    #expect(eval.confusion.flatMap { $0 }.reduce(0, +) == 64)
    #expect(eval.perClassAccuracy.allSatisfy { ($0 ?? 0) > 0.9 })
    let log = try String(contentsOf: job.logURL, encoding: .utf8).split(separator: "\n")
    #expect(log.count == 4)
  }

  @Test("the same seed gives the same checkpoint bytes, and a resumed run matches an uninterrupted one")
  func reproducibleAndResumable() throws {
    let root = temporaryPath("resume")
    let train = Self.halves(96, seed: 1)
    func run(_ name: String, epochs: Int, resume: Bool = false) throws -> Data {
      let out = root.appendingPathComponent(name)
      try TrainingJob(spec: Self.spec, settings: settings(epochs: epochs), output: out).run(train: train, test: nil, resume: resume)
      return try Data(contentsOf: out)
    }
    let a = try run("a.safetensors", epochs: 3)
    let b = try run("b.safetensors", epochs: 3)
    #expect(a == b)
    _ = try run("c.safetensors", epochs: 1)
    let c = try run("c.safetensors", epochs: 3, resume: true)
    #expect(c == a)
    #expect(throws: TrainingJobError.self) { try run("missing.safetensors", epochs: 2, resume: true) }
  }

  @Test("--label-smoothing reaches the loss a training job minimises")
  func labelSmoothingReachesTheLoss() throws {
    // A learning rate this small leaves the weights as initialised, so the epoch's loss is the
    // initial model's loss over the data, which we recompute by hand.
    let data = Self.halves(32, seed: 4)
    let root = temporaryFolder("smoothing")
    // Without dropout, training-mode and inference-mode logits agree.
    let spec = ModelSpec(input: Self.spec.input, classes: 2, layers: Self.spec.layers.filter { $0.type != "dropout" })
    func epochLoss(_ smoothing: Float) throws -> Double {
      var s = settings(epochs: 1)
      s.learningRate = 1e-30
      s.labelSmoothing = smoothing
      s.batchSize = 32
      let job = TrainingJob(spec: spec, settings: s, output: root.appendingPathComponent("s\(smoothing).safetensors"))
      return try job.run(train: data, test: nil, resume: false).reports[0].trainLoss
    }
    let model = try Model(spec: spec, seed: settings(epochs: 1).seed)
    let logits = withoutGradients { model.withMode(.inference) { model(data.images) } }
    // (1 − s)·CE + s·mean_k(−log p_k), from the log-softmax by hand, in Double.
    let k = logits.shape[1]
    var ce = 0.0, uniform = 0.0
    for (i, y) in data.labels.enumerated() {
      let row = (0..<k).map { Double(logits.scalars[i * k + $0]) }
      let m = row.max()!, lse = m + log(row.map { exp($0 - m) }.reduce(0, +))
      ce += lse - row[y]
      uniform += row.map { lse - $0 }.reduce(0, +) / Double(k)
    }
    ce /= Double(data.count)
    uniform /= Double(data.count)
    #expect(Swift.abs(ce - uniform) > 1e-3, "the logits are too uniform for smoothing to matter")
    let s = 0.3
    #expect(Swift.abs(try epochLoss(0) - ce) < 1e-5)
    #expect(Swift.abs(try epochLoss(0.3) - ((1 - s) * ce + s * uniform)) < 1e-5)
  }

  @Test("a second process on the same output is refused; a fresh run keeps the old log until its first checkpoint")
  func lockAndLog() throws {
    let root = temporaryFolder("lock")
    let out = root.appendingPathComponent("m.safetensors")
    let job = TrainingJob(spec: Self.spec, settings: settings(epochs: 1), output: out)
    try job.run(train: Self.halves(32, seed: 1), test: nil, resume: false)
    let fd = open(root.appendingPathComponent("m.lock").path, O_RDWR)
    #expect(flock(fd, LOCK_EX | LOCK_NB) == 0)
    do {
      try job.run(train: Self.halves(32, seed: 1), test: nil, resume: true)
      Issue.record("ran while another holder had the lock")
    } catch let e as TrainingJobError {
      #expect("\(e)".contains("another training run"), "\(e)")
    }
    close(fd)
    // A fresh run that fails before its first checkpoint leaves the old log as it was.
    let log = try Data(contentsOf: job.logURL)
    var bad = job
    bad.spec = ModelSpec(input: [1, 6, 6], classes: 1, layers: [LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 1)])
    #expect(throws: (any Error).self) { try bad.run(train: Self.halves(32, seed: 1), test: nil, resume: false) }
    #expect(try Data(contentsOf: job.logURL) == log)
  }
}
