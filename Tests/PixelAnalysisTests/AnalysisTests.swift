import Foundation
import Testing
import _TestSupport
import PixelAttacks
import PixelData
import PixelImaging
import PixelNN
import PixelTensor
import PixelTraining
@testable import PixelAnalysis

enum Tiny {
  static func halves(_ n: Int, seed: UInt64) -> Dataset { SyntheticData.halves(n, seed: seed) }

  static func makeModel() -> Model {
    let spec = ModelSpec(input: [1, 8, 8], classes: 2, layers: [
      LayerSpec(type: "conv2d", name: "conv", out: 4, kernel: 3), LayerSpec(type: "softplus"),
      LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    let out = temporaryPath("tiny").appendingPathComponent("m.safetensors")
    let settings = TrainingSettings(data: "halves", epochs: 3, batchSize: 16, learningRate: 0.02, seed: 2)
    let (m, _) = try! TrainingJob(spec: spec, settings: settings, output: out).run(train: halves(128, seed: 1), test: nil, resume: false)
    m.setMode(.inference)
    return m
  }
}

@Suite("Gradient maps")
struct GradientMapTests {
  @Test("batched per-example gradients equal one-at-a-time gradients")
  func batchIndependence() {
    let model = Tiny.makeModel()
    let data = Tiny.halves(6, seed: 3)
    let batch = InputGradientMap.gradients(model: model, images: data.images, labels: data.labels, target: .loss)
    for i in 0..<6 {
      let one = InputGradientMap.gradients(model: model, images: data.images.rows(i..<(i + 1)), labels: [data.labels[i]], target: .loss)
      let d = zip(one.scalars, batch[i].scalars).map { Swift.abs($0 - $1) }.max()!
      #expect(d < 1e-6)
    }
  }

  @Test("G is the mean absolute gradient; shards merge to the full map; partial files round-trip")
  func shardsMerge() throws {
    let model = Tiny.makeModel()
    let data = Tiny.halves(50, seed: 4)
    let full = InputGradientMap.accumulate(model: model, data: data, batchSize: 7)
    let g = InputGradientMap.gradients(model: model, images: data.images, labels: data.labels, target: .loss)
    let direct = withoutGradients { g.abs().mean(alongAxes: [0]) }
    #expect(zip(full.meanAbsolute.scalars, direct.scalars).allSatisfy { Swift.abs($0 - $1) <= 1e-6 * Swift.max(1, Swift.abs($1)) })
    var merged: GradientMapAccumulator?
    let dir = temporaryPath("shards")
    for i in 0..<3 {
      let range = try Shard(index: i, count: 3).range(of: data.count, batchSize: 7)
      let part = InputGradientMap.accumulate(model: model, data: data.subset(Array(range)), batchSize: 7)
      let url = dir.appendingPathComponent("part\(i).safetensors")
      try part.write(to: url)
      let (back, _) = try GradientMapAccumulator.read(from: url)
      #expect(back == part)
      if merged == nil { merged = back } else { try merged!.merge(back) }
    }
    #expect(merged!.count == 50 && merged!.classCounts == [25, 25])
    for (a, b) in zip(merged!.absoluteSum, full.absoluteSum) { #expect(Swift.abs(a - b) <= 1e-13 * Swift.max(1, Swift.abs(b))) }
    #expect(merged!.meanAbsolute.scalars == full.meanAbsolute.scalars)
    #expect(throws: AnalysisError.self) { try merged!.merge(GradientMapAccumulator(imageShape: [1, 4, 4], classes: 2)) }
  }

  @Test("merge reproduces every file of the single run (rendering included) and refuses repeated, missing and foreign shards",
        arguments: [1, 3, 8])
  func shardJobs(_ shards: Int) throws {
    let model = Tiny.makeModel()
    let data = Tiny.halves(40, seed: 7)
    let root = temporaryFolder("map-jobs")
    let rendering = { (folder: URL) in GradientMapOutputs(folder: folder, colormap: .magma, scaling: .percentile(low: 1, high: 99),
                                                          signed: true, perClass: true) }
    func run(_ name: String, shard: Shard?, model m: Model = model) throws -> URL {
      let folder = root.appendingPathComponent(name)
      _ = try GradientMapJob(batchSize: 6, shard: shard, outputs: rendering(folder)).run(model: m, modelName: "tiny", data: data)
      return folder
    }
    let whole = try run("whole", shard: nil)
    let parts = try (0..<shards).map { try run("s\($0)", shard: try .init(index: $0, count: shards)) }
    let merged = root.appendingPathComponent("merged")
    let (acc, _, _) = try GradientMapJob.merge(parts.reversed(), into: merged)
    #expect(acc.count == 40)
    let (got, expected) = (try resultFiles(merged), try resultFiles(whole))
    #expect(got.keys.sorted() == expected.keys.sorted())
    for name in expected.keys.sorted() { #expect(got[name] == expected[name], "\(name)") }
    guard shards == 3 else { return }
    func refused(_ folders: [URL], _ fragment: String) {
      do {
        _ = try GradientMapJob.merge(folders, into: root.appendingPathComponent("refused"))
        Issue.record("merged \(folders.map(\.lastPathComponent))")
      } catch {
        #expect("\(error)".contains(fragment), "\(error)")
      }
    }
    refused([parts[0], parts[1], parts[1], parts[2]], "repeats shard 1/3")
    refused([parts[0], parts[2]], "shard 1/3 is missing")
    refused([whole, parts[0]], "not a shard's output")
    let other = try run("other", shard: try .init(index: 1, count: 3), model: try Model(spec: model.spec, seed: 9))
    refused([parts[0], other, parts[2]], "model_hash")
    // A shard whose job was killed before its manifest was written is unfinished.
    try FileManager.default.removeItem(at: parts[1].appendingPathComponent("manifest.json"))
    refused(parts, "no manifest.json")
  }

  @Test("non-finite gradients are counted and left out; zero gradients are counted")
  func gradientHealth() {
    var acc = GradientMapAccumulator(imageShape: [1, 1, 2], classes: 2)
    acc.add(Tensor([1, -1, .nan, 0, 0, 0], shape: [3, 1, 1, 2]), labels: [0, 1, 1])
    #expect(acc.count == 2 && acc.nonFiniteGradientImages == 1 && acc.zeroGradientImages == 1)
    #expect(acc.meanAbsolute.scalars == [0.5, 0.5] && acc.meanSigned.scalars == [0.5, -0.5])
    #expect(acc.classMeans.scalars == [1, 1, 0, 0])
  }

  @Test("saliency maps: SmoothGrad with σ = 0 is the absolute logit gradient")
  func saliency() {
    let model = Tiny.makeModel()
    let x = Tiny.halves(4, seed: 6).images
    var rng = SeededGenerator(seed: 1)
    let smooth = Saliency.smoothGrad(model: model, images: x, samples: 2, noise: 0, using: &rng)
    let plain = withoutGradients { InputGradientMap.gradients(model: model, images: x, labels: [], target: .logit).abs() }
    #expect(zip(smooth.scalars, plain.scalars).allSatisfy { Swift.abs($0 - $1) < 1e-6 })
    #expect(Saliency.gradientTimesInput(model: model, images: x).shape == x.shape)
    #expect(Saliency.absoluteGradient(model: model, images: x, labels: [0, 1, 0, 1]).min() >= 0)
  }

  @Test("mask specifications parse and resolve; bad ones are typed errors")
  func maskSpecifications() throws {
    let map = Tensor.arange(0, 64).reshaped(to: [8, 8])
    #expect(try MaskSpecification(parsing: "top:25").resolve(height: 8, width: 8, map: map).values.suffix(16).allSatisfy { $0 })
    #expect(try MaskSpecification(parsing: "pattern:v0@1,0").resolve(height: 8, width: 8, map: nil).values[8])
    #expect(try MaskSpecification(parsing: "random:50@3").resolve(height: 8, width: 8, map: nil).count == 32)
    #expect(throws: AttackError.self) { try MaskSpecification(parsing: "top:0") }
    #expect(throws: AttackError.self) { try MaskSpecification(parsing: "pattern:v9") }
    #expect(throws: AttackError.self) { try MaskSpecification(parsing: "top:10").resolve(height: 8, width: 8, map: nil) }
    let dir = temporaryPath("masks")
    let png = dir.appendingPathComponent("m.png")
    try PNG.write(Image(width: 8, height: 8, channels: 1, bytes: (0..<64).map { $0 < 8 ? 255 : 0 }), to: png)
    #expect(try MaskSpecification(parsing: png.path).resolve(height: 8, width: 8, map: nil).count == 8)
    let black = dir.appendingPathComponent("black.png")
    try PNG.write(Image(width: 8, height: 8, channels: 1, bytes: [UInt8](repeating: 0, count: 64)), to: black)
    #expect(throws: AttackError.self) { try MaskSpecification(parsing: black.path).resolve(height: 8, width: 8, map: nil) }
  }

  @Test("a masked sweep reports every kind and k with nothing changed off the masks")
  func maskedSweep() throws {
    let model = Tiny.makeModel()
    let data = Tiny.halves(24, seed: 8)
    let map = InputGradientMap.accumulate(model: model, data: data).meanAbsolute
    let rows = try MaskedSweep(kinds: MaskedSweep.Kind.allCases, percents: [10, 100], randomSeeds: 2)
      .run(model: model, data: data, map: map, attack: FGSM(), norm: .lInfinity, epsilon: 0.2, runner: AttackRunner(batchSize: 8))
    #expect(rows.count == 6)
    #expect(rows.allSatisfy { $0.maxOffMaskChange == 0 })
    let full = rows.filter { $0.percent == 100 }.map(\.robustAccuracy)
    #expect(Set(full).count == 1)
    #expect(MaskedSweep.markdown(rows, title: "t").contains("| 10 |"))
    #expect(MaskedSweep.csv(rows).split(separator: "\n").count == 7)
    #expect(MaskedSweep.plot(rows, title: "t").width == 640)
  }
}

@Suite("Map comparisons")
struct MapComparisonTests {
  @Test("Spearman's rank correlation: 1 for monotone maps, −1 for reversed, ties averaged")
  func spearman() {
    let m = Tensor.arange(0, 16).reshaped(to: [4, 4])
    #expect(Swift.abs(spearmanCorrelation(m, m * 3) - 1) < 1e-12)
    #expect(Swift.abs(spearmanCorrelation(m, -m) + 1) < 1e-12)
    #expect(spearmanCorrelation(m, .ones([4, 4])) == 0)
    // With a tie: ranks [1, 2.5, 2.5, 4] against [1, 2, 3, 4] correlate 4.5 / √(4.5 · 5).
    let tied = Tensor([1, 2, 2, 3], shape: [2, 2]), ramp = Tensor([1, 2, 3, 4], shape: [2, 2])
    #expect(Swift.abs(spearmanCorrelation(tied, ramp) - 4.5 / (4.5 * 5.0).squareRoot()) < 1e-12)
  }
}

@Suite("Transfer matrices")
struct TransferMatrixTests {
  @Test("the diagonal equals the white-box report; off the diagonal, the target's accuracy on the source's examples")
  func transfer() throws {
    let a = Tiny.makeModel(), b = try Model(spec: a.spec, seed: 7)
    let data = Tiny.halves(24, seed: 9)
    let runner = AttackRunner(batchSize: 10, seed: 1)
    let attack = try PGD(steps: 3, stepSize: 0.05)
    let matrix = try TransferMatrix.run(models: [("a", a), ("b", b)], data: data, attack: attack, norm: .lInfinity,
                                        epsilons: [0, 0.2], targeted: false, runner: runner)
    #expect(matrix.cells.count == 8)
    let whiteBox = try AttackReport.evaluate(attack, model: a, modelName: "a", data: data, norm: .lInfinity, epsilons: [0, 0.2],
                                             mask: nil, targeted: false, runner: runner)
    #expect(matrix.accuracy(source: "a", target: "a", epsilon: 0.2) == whiteBox.results[1].robustAccuracy)
    // a's examples at ε = 0.2, classified by b.
    var rng = SeededGenerator(seed: 1)
    var correct = 0
    a.withMode(.inference) {
      for (x, y) in MiniBatches(data, batchSize: 10) {
        let threat = try! ThreatModel(norm: .lInfinity, epsilon: 0.2)
        let xAdv = attack.perturb(x, criterion: .misclassification(labels: y), within: threat, model: a, using: &rng)
        let p = b.withMode(.inference) { withoutGradients { b(xAdv).argmax(alongAxis: 1) } }
        correct += zip(p, y).filter { $0 == $1 }.count
      }
    }
    #expect(matrix.accuracy(source: "a", target: "b", epsilon: 0.2) == Double(correct) / 24)
    // At ε = 0 every cell is the target's clean accuracy.
    #expect(matrix.accuracy(source: "b", target: "a", epsilon: 0) == matrix.cleanAccuracy["a"])
    let folder = temporaryFolder("transfer")
    let md = try matrix.write(to: folder)
    #expect(md.contains("| a | ") && md.contains("ε = 0.2"))
    #expect(try FolderManifest.verify(folder: folder).files.map(\.name) == ["matrix.json", "matrix.csv", "matrix.md", "matrix.png"])
  }
}

@Suite("Saliency grids")
struct SaliencyGridTests {
  @Test("one row per model, a gradient and an adversarial tile per image")
  func layout() throws {
    let a = Tiny.makeModel(), b = try Model(spec: a.spec, seed: 3)
    let data = Tiny.halves(3, seed: 2)
    let one = try SaliencyGrid.render(models: [("a", a)], images: data.images, labels: data.labels, epsilon: 0.1)
    let two = try SaliencyGrid.render(models: [("a", a), ("b", b)], images: data.images, labels: data.labels, epsilon: 0.1)
    #expect(two.width == one.width && two.height > one.height)
    #expect(throws: AttackError.self) { _ = try SaliencyGrid.render(models: [("a", a)], images: data.images, labels: data.labels, epsilon: .nan) }
  }
}

@Suite("Gradient norms")
struct GradientNormTests {
  @Test("the summary's mean ‖∇ₓCE‖₂ is the mean of the per-example norms, also after a merge")
  func meanNorm() throws {
    let model = Tiny.makeModel()
    let data = Tiny.halves(10, seed: 4)
    let g = model.withMode(.inference) { InputGradientMap.gradients(model: model, images: data.images, labels: data.labels, target: .loss) }
    let expected = (0..<10).map { i in Double(g[i].scalars.map { $0 * $0 }.reduce(0, +).squareRoot()) }.reduce(0, +) / 10
    let acc = InputGradientMap.accumulate(model: model, data: data, batchSize: 4)
    let summary = MapSummary(acc, model: "m", data: "d", target: .loss)
    #expect(Swift.abs(summary.meanGradientL2Norm! - expected) < 1e-6 * expected)
    func part(_ i: Int) throws -> Dataset { data.subset(Array(try Shard(index: i, count: 2).range(of: 10, batchSize: 4))) }
    var merged = InputGradientMap.accumulate(model: model, data: try part(0), batchSize: 4)
    try merged.merge(InputGradientMap.accumulate(model: model, data: try part(1), batchSize: 4))
    #expect(Swift.abs(MapSummary(merged, model: "m", data: "d", target: .loss).meanGradientL2Norm! - expected) < 1e-6 * expected)
  }
}

@Suite("Gradient maps do not depend on the batch size")
struct BatchIndependenceTests {
  @Test("a small CNN's map over images on a constant background has the same bits at batch sizes 1, 7 and 16")
  func mapIgnoresBatchSize() throws {
    // The constant background makes max-pool windows whose values tie exactly. OpenBLAS's
    // rounding depended on a column's place in the batch and broke those ties differently,
    // moving the gradient (0.9 % of the map's maximum on Fashion-MNIST); the direct convolution
    // and the row GEMM give an image the same bits wherever it sits.
    let model = try Model(spec: Architecture.smallCNN.spec(input: [1, 28, 28], classes: 10), seed: 3)
    var g = SeededGenerator(seed: 4)
    var pixels = [Float](repeating: 0, count: 16 * 28 * 28)
    for n in 0..<16 { for y in 9..<19 { for x in 9..<19 { pixels[(n * 28 + y) * 28 + x] = g.nextUnitFloat() } } }
    let data = Dataset(name: "patches", images: Tensor(pixels, shape: [16, 1, 28, 28]), labels: (0..<16).map { $0 % 10 },
                       classNames: (0..<10).map(String.init))
    let reference = InputGradientMap.accumulate(model: model, data: data, batchSize: 16).meanAbsolute.scalars
    #expect((reference.max() ?? 0) > 0)
    for batchSize in [1, 7] {
      #expect(InputGradientMap.accumulate(model: model, data: data, batchSize: batchSize).meanAbsolute.scalars == reference)
    }
  }
}
