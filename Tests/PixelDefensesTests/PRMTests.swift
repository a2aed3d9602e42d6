import Foundation
import Testing
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelMasks
import PixelNN
import PixelTensor
import PixelTraining
import _TestSupport
@testable import PixelDefenses

@Suite("PRM layer and objective")
struct PRMTests {
  static let classifier = ModelSpec(input: [1, 8, 8], classes: 2, layers: [
    LayerSpec(type: "conv2d", name: "conv", out: 3, kernel: 3), LayerSpec(type: "softplus"),
    LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])

  static let designations: [(String, DesignatedPixels)] = PixelPattern.allCases.map { ("\($0.rawValue)", .pattern($0, shift: (0, 0))) }
    + [("v0 shifted", .pattern(.v0, shift: (1, 1))), ("v3 shifted", .pattern(.v3, shift: (1, 2))),
       ("random 30%", .mask(.random(30, height: 8, width: 8, seed: 2)))]

  @Test("P(x) reads only the designated pixels: its input gradient is exactly zero off them",
        arguments: designations.indices)
  func sparsity(_ i: Int) throws {
    let (name, d) = Self.designations[i]
    var rng = SeededGenerator(seed: 1)
    let prm = PRMLayer(imageShape: [1, 8, 8], designated: d, width: 4, depth: 1, mix: 1, using: &rng)
    let x = Tensor.uniform([2, 1, 8, 8], using: &rng).requiringGradient()
    let y = prm(x)
    #expect(y.shape == x.shape)
    #expect(y.min() > 0 && y.max() < 1)
    let g = gradients(of: (y * Tensor.normal(y.shape, using: &rng)).sum(), wrt: [x])[0]
    let mask = d.mask(height: 8, width: 8)
    for (k, v) in g.scalars.enumerated() {
      if !mask.values[k % 64] { #expect(v == 0, "\(name): off-mask pixel \(k % 64) has gradient \(v)") }
    }
    #expect(g.abs().max() > 0, "\(name): no gradient at all")
  }

  @Test("with α < 1 the classifier also sees x; with α = 1 only P(x)")
  func mixing() throws {
    let spec = try PRMModels.spec(classifier: Self.classifier, designated: .pattern(.v0, shift: (0, 0)), width: 4, depth: 1, mix: 1)
    let model = try Model(spec: spec, seed: 3, builder: .withDefenses)
    model.setMode(.inference)
    var rng = SeededGenerator(seed: 2)
    let x = Tensor.uniform([3, 1, 8, 8], using: &rng)
    let g = InputGradientMapTestHelper.inputGradient(model, x, [0, 1, 0])
    let off = PixelMask.pattern(.v0, height: 8, width: 8).complement
    for (k, v) in g.scalars.enumerated() where off.values[k % 64] { #expect(v == 0) }
    #expect(model.namedParameters.map(\.name).first == "prm.first.weight")
    #expect(model.namedParameters.map(\.name).contains("conv.weight"))
  }

  @Test("S(g) is the off-designated share of gradient energy")
  func offShare() {
    let d = PixelMask(height: 1, width: 4, values: [true, true, false, false])
    let objective = PRMObjective(lambda: 1, designated: d, channels: 1)
    let g = Tensor([1, 1, 1, 1, 3, 0, 0, 4], shape: [2, 1, 1, 4])
    #expect(objective.offShare(g).scalars == [0.5, 16.0 / 25])
  }

  @Test("the λ loss's parameter gradient matches finite differences (double backprop)")
  func steeringGradient() throws {
    let spec = try PRMModels.spec(classifier: Self.classifier, designated: .pattern(.v0, shift: (0, 0)), width: 3, depth: 1, mix: 0.5)
    let model = try Model(spec: spec, seed: 4, builder: .withDefenses)
    var rng = SeededGenerator(seed: 5)
    let x = Tensor.uniform([2, 1, 8, 8], using: &rng)
    let objective = PRMObjective(lambda: 2, designated: .pattern(.v0, height: 8, width: 8), channels: 1)
    let weight = model.namedParameters.first { $0.name == "fc.weight" }!.parameter
    let original = weight.value
    func loss(_ w: Tensor) -> Tensor {
      weight.value = w
      var rng = SeededGenerator(seed: 0)
      return objective.loss(model: model, inputs: x, labels: [0, 1], using: &rng).loss
    }
    let report = checkDirectionalDerivative({ loss($0[0]) }, at: [original], step: 1e-2, using: &rng)
    weight.value = original
    #expect(report.relativeError < 2e-2, "\(report)")
  }

  @Test("a short λ > 0 run lowers the off-designated share S relative to λ = 0")
  func steeringWorks() throws {
    let train = SyntheticData.halves(128, seed: 1), test = SyntheticData.halves(64, seed: 2)
    let settings = TrainingSettings(data: "halves", epochs: 2, batchSize: 16, learningRate: 0.01, seed: 3)
    let root = temporaryPath("prm")
    let sweep = PRMSweep(lambdas: [0, 5], mixes: [0.5], designated: .pattern(.v0, shift: (0, 0)), width: 4, depth: 1,
                         settings: settings, classifier: Self.classifier, evaluationImages: 64, attackEpsilons: [0.05, 0.1], attackSteps: [2])
    let (rows, maps) = try sweep.run(train: train, test: test, folder: root)
    #expect(rows.count == 2 && maps.count == 2)
    #expect(rows[1].meanOffShare < rows[0].meanOffShare, "\(rows.map(\.meanOffShare))")
    #expect(rows.allSatisfy { abs($0.chanceIoU - 1.0 / 7) < 1e-9 })
    #expect(rows.allSatisfy { $0.maskedAttacks?.map(\.epsilon) == [0.05, 0.1] && $0.pgdOnDesignated == $0.maskedAttacks?[0].onDesignated })
    let md = try sweep.write(rows, maps: maps, data: "halves", height: 8, width: 8, to: root)
    #expect(md.contains("| 5.0 | 0.5 |") && md.contains("PGD-2 ε 0.1 on D"))
    for file in ["iou_report.json", "iou_report.md", "heatmaps.png"] {
      #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(file).path), "\(file) missing")
    }
    #expect(sweep.heatmapGrid(rows, maps: maps, height: 8, width: 8).width > 0)
    // A second run reuses the finished checkpoints.
    let again = try sweep.run(train: train, test: test, folder: root)
    #expect(again.rows.map(\.iou) == rows.map(\.iou))
  }

  @Test("the off set is as large as the designated set and disjoint from it", arguments: designations.indices)
  func offSets(_ i: Int) {
    let d = Self.designations[i].1
    let mask = d.mask(height: 8, width: 8), off = PRMSweep.offSet(d, height: 8, width: 8, seed: 1)
    #expect(off.count == mask.count)
    #expect(off.intersection(mask).count == 0)
  }
}

enum InputGradientMapTestHelper {
  static func inputGradient(_ model: Model, _ x: Tensor, _ y: [Int]) -> Tensor {
    let probe = x.requiringGradient()
    return gradients(of: crossEntropy(logits: model(probe), labels: y, reduction: .sum), wrt: [probe])[0]
  }
}

@Suite("Randomized defenses")
struct RandomizedDefenseTests {
  static func prmModel(_ p: PixelPattern, seed: UInt64) throws -> Model {
    try Model(spec: PRMModels.spec(classifier: PRMTests.classifier, designated: .pattern(p, shift: (0, 0)), width: 3, depth: 1, mix: 0.5),
              seed: seed, builder: .withDefenses)
  }

  @Test("the switch draws branches at random, reseeds reproducibly, and round-trips through a checkpoint")
  func switching() throws {
    let models = [try Self.prmModel(.v0, seed: 1), try Self.prmModel(.v5, seed: 2)]
    let (spec, state) = try PRMModels.switching(models, chain: 2, seed: 7)
    let model = try Model(spec: spec, seed: 0, builder: .withDefenses)
    try model.loadState(state, source: "test")
    model.setMode(.inference)
    #expect(model.isRandomized)
    var rng = SeededGenerator(seed: 3)
    let x = Tensor.uniform([4, 1, 8, 8], using: &rng)
    let outputs = (0..<12).map { _ in withoutGradients { model.logits(x).scalars } }
    #expect(Set(outputs.map { $0.map(\.bitPattern) }).count > 1, "the switch never switched")
    model.reseedRandomizedLayers(5)
    let a = withoutGradients { model.logits(x).scalars }
    model.reseedRandomizedLayers(5)
    #expect(withoutGradients { model.logits(x).scalars } == a)
    let url = temporaryPath("switch", suffix: ".safetensors")
    try Checkpoint.save(model, to: url)
    let (loaded, _) = try Checkpoint.load(from: url, builder: .withDefenses)
    #expect(loaded.stateTensors.keys.sorted() == model.stateTensors.keys.sorted())
    #expect(loaded.isRandomized)
  }

  @Test("random resize-and-pad keeps the shape, varies, and lets gradients through")
  func resizePad() throws {
    let classifier = try Model(spec: PRMTests.classifier, seed: 1, builder: .withDefenses)
    let (spec, state) = try PRMModels.resizePad(classifier, minimumSize: 5, seed: 2)
    let model = try Model(spec: spec, seed: 0, builder: .withDefenses)
    try model.loadState(state, source: "test")
    var rng = SeededGenerator(seed: 1)
    let x = Tensor.uniform([2, 1, 8, 8], using: &rng)
    #expect(Set((0..<10).map { _ in withoutGradients { model.logits(x).scalars.map(\.bitPattern) } }).count > 1)
    let g = InputGradientMapTestHelper.inputGradient(model, x, [0, 1])
    #expect(g.abs().max() > 0)
  }

  @Test("EOT attacks and worst-of-R classification on a randomized model; the report flags it")
  func eot() throws {
    let models = [try Self.prmModel(.v0, seed: 1), try Self.prmModel(.v1, seed: 2)]
    let (spec, state) = try PRMModels.switching(models, chain: 1, seed: 7)
    let model = try Model(spec: spec, seed: 0, builder: .withDefenses)
    try model.loadState(state, source: "test")
    var rng = SeededGenerator(seed: 3)
    let data = Dataset(name: "noise", images: Tensor.uniform([8, 1, 8, 8], using: &rng), labels: (0..<8).map { $0 % 2 },
                       classNames: ["a", "b"])
    let settings = AttackSettings(method: .pgd, epsilons: [0.1], steps: [2], stepSize: .absolute(0.05), eotSamples: 3,
                                  classifications: 3, batchSize: 8, seed: 5)
    let evaluation = try DefenseEvaluation.run(settings, model: model, modelName: "switch", data: data, mask: nil, seeds: 2,
                                               baseline: (models[0], "v0"))
    // Seed s repeats the attack with the settings' seed + s; the baseline is attacked once, without EOT.
    var second = settings
    second.seed = 6
    let again = try AttackReport.evaluate(try second.attacks(), model: model, modelName: "switch", data: data, norm: .lInfinity,
                                          epsilons: [0.1], mask: nil, targeted: false, runner: second.runner)
    #expect(evaluation.reports[1].results[0].robustAccuracy == again.results[0].robustAccuracy)
    let plain = try AttackReport.evaluate(try PGD(steps: 2, stepSize: 0.05), model: models[0], modelName: "v0", data: data,
                                          norm: .lInfinity, epsilons: [0.1], mask: nil, targeted: false,
                                          runner: AttackRunner(batchSize: 8, seed: 5))
    #expect(evaluation.rows[0].baselineAttacked == plain.results[0].robustAccuracy)
    #expect(evaluation.rows.count == 1 && evaluation.rows[0].perSeed.count == 2)
    #expect(evaluation.reports.allSatisfy { $0.randomizedModel })
    #expect(evaluation.attack == "eot3-pgd-2")
    #expect(evaluation.markdown.contains("defense rate"))
  }

  @Test("the defense rate follows its definition")
  func rate() {
    #expect(defenseRate(clean: 0.9, attacked: 0.1, defended: 0.5) == 0.5)
    #expect(defenseRate(clean: 0.9, attacked: 0.9, defended: 0.5) == nil)
    let (m, s) = meanAndStandardDeviation([1, 2, 3])
    #expect(m == 2 && s == 1)
  }
}
