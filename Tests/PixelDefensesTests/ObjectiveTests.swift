import Foundation
import Testing
import PixelAttacks
import PixelNN
import PixelTensor
import PixelTraining
import _TestSupport
@testable import PixelDefenses

@Suite("Training objectives of the defenses")
struct ObjectiveTests {
  static let spec = ModelSpec(input: [1, 6, 6], classes: 3, layers: [
    LayerSpec(type: "conv2d", name: "conv", out: 2, kernel: 3), LayerSpec(type: "softplus"),
    LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 3)])

  struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let make: @Sendable (Model) throws -> any TrainingObjective
    var testDescription: String { name }
  }

  /// The loss as a function of the weights. Adversarial examples depend on the weights only
  /// through sign and argmax steps (piecewise constant), and training treats them as constants,
  /// so they are made once, at the unperturbed weights, and held.
  static func lossFunction(_ objective: any TrainingObjective, model: Model, x: Tensor, labels: [Int]) -> () -> Tensor {
    var draws = SeededGenerator(seed: 0)
    if let adversarial = objective as? AdversarialTraining {
      let held = adversarial.adversarialExamples(model: model, inputs: x, labels: labels, using: &draws)
      return { adversarial.loss(model: model, inputs: x, labels: labels, adversarial: held).loss }
    }
    if let trades = objective as? TRADES {
      let held = trades.adversarial(model, x, using: &draws)
      return { trades.loss(model: model, inputs: x, labels: labels, adversarial: held).loss }
    }
    return {
      var draws = SeededGenerator(seed: 0)
      return objective.loss(model: model, inputs: x, labels: labels, using: &draws).loss
    }
  }

  static let cases: [Case] = [
    Case(name: "standard at T = 3") { _ in StandardTraining(temperature: 3) },
    Case(name: "gradient regularization") { _ in InputGradientRegularization(lambda: 3) },
    Case(name: "gradient regularization, authors' λ") { _ in InputGradientRegularization(lambda: 500, convention: .authors) },
    Case(name: "certainty insensitivity") { _ in InputGradientRegularization(lambda: 3, insensitive: true) },
    Case(name: "FGSM adversarial") { _ in AdversarialTraining.fgsm(epsilon: 0.1) },
    Case(name: "PGD adversarial") { _ in try AdversarialTraining.pgd(epsilon: 0.1, steps: 3, stepSize: .absolute(0.04), weight: 0.7) },
    Case(name: "TRADES") { _ in TRADES(beta: 6, epsilon: 0.3, steps: 3, stepSize: 0.1) },
    Case(name: "distillation") { _ in Distillation(teacher: try Model(spec: spec, seed: 9), temperature: 4) },
    Case(name: "Gaussian augmentation") { _ in GaussianAugmentation(sigma: 0.25) },
  ]

  @Test("each objective's parameter gradient matches central differences (adversarial examples held by the seed)",
        arguments: cases)
  func gradients(_ c: Case) throws {
    let model = try Model(spec: Self.spec, seed: 4)
    let objective = try c.make(model)
    var rng = SeededGenerator(seed: 5)
    let x = Tensor.uniform([4, 1, 6, 6], using: &rng)
    let labels = [0, 1, 2, 1]
    for name in ["conv.weight", "fc.weight"] {
      let weight = model.namedParameters.first { $0.name == name }!.parameter
      let original = weight.value
      let evaluate = Self.lossFunction(objective, model: model, x: x, labels: labels)
      func loss(_ w: Tensor) -> Tensor {
        weight.value = w
        return evaluate()
      }
      let report = checkDirectionalDerivative({ loss($0[0]) }, at: [original], step: 1e-2, using: &rng)
      weight.value = original
      #expect(report.relativeError < 2e-2, "\(c.name), \(name): \(report)")
    }
  }

  @Test("the authors' λ convention is λ_code = 2N · λ of the per-example one; the terms are logged")
  func conventions() throws {
    let model = try Model(spec: Self.spec, seed: 4)
    var rng = SeededGenerator(seed: 6)
    let x = Tensor.uniform([5, 1, 6, 6], using: &rng)
    let labels = [0, 1, 2, 1, 0]
    var draws = SeededGenerator(seed: 0)
    let perExample = InputGradientRegularization(lambda: 3).loss(model: model, inputs: x, labels: labels, using: &draws)
    let authors = InputGradientRegularization(lambda: 3 * 2 * 5, convention: .authors).loss(model: model, inputs: x, labels: labels,
                                                                                          using: &draws)
    #expect(Swift.abs(perExample.loss.item - authors.loss.item) < 1e-5 * Swift.abs(perExample.loss.item))
    // The penalty is λ · mean_n ‖∇ₓ CE_n‖², from one example at a time.
    var squared: Float = 0
    for i in 0..<5 {
      let xi = x[i].expandingShape(at: 0).requiringGradient()
      let g = PixelTensor.gradients(of: crossEntropy(logits: model(xi), labels: [labels[i]]), wrt: [xi])[0]
      squared += (g * g).sum().item
    }
    #expect(Swift.abs(perExample.terms["penalty"]! - 3 * squared / 5) < 1e-4 * squared)
    #expect(Swift.abs(perExample.terms["ce"]! - crossEntropy(logits: model(x), labels: labels).item) < 1e-5)
  }

  @Test("distillation's loss is the soft cross-entropy at T, by hand")
  func distillationByHand() throws {
    let student = try Model(spec: Self.spec, seed: 4), teacher = try Model(spec: Self.spec, seed: 8)
    var rng = SeededGenerator(seed: 7)
    let x = Tensor.uniform([3, 1, 6, 6], using: &rng)
    let t: Float = 5
    var draws = SeededGenerator(seed: 0)
    let value = Distillation(teacher: teacher, temperature: t).loss(model: student, inputs: x, labels: [0, 1, 2], using: &draws)
    let (s, q) = withoutGradients { (student(x).scalars, teacher(x).scalars) }
    var expected = 0.0
    for n in 0..<3 {
      let qs = (0..<3).map { Double(q[n * 3 + $0] / t) }, ss = (0..<3).map { Double(s[n * 3 + $0] / t) }
      let qz = qs.map { exp($0) }.reduce(0, +), sz = log(ss.map { exp($0) }.reduce(0, +))
      for k in 0..<3 { expected -= exp(qs[k]) / qz * (ss[k] - sz) }
    }
    #expect(Swift.abs(Double(value.loss.item) - expected / 3) < 1e-5)
  }

  @Test("FGSM adversarial training attacks the model's predictions, not the labels (Ross & Doshi-Velez)")
  func fgsmUsesPredictions() throws {
    let model = try Model(spec: Self.spec, seed: 4)
    var rng = SeededGenerator(seed: 3)
    let x = Tensor.uniform([6, 1, 6, 6], using: &rng)
    let predictions = withoutGradients { model(x).argmax(alongAxis: 1) }
    let labels = predictions.map { ($0 + 1) % 3 }
    var draws = SeededGenerator(seed: 0)
    let value = AdversarialTraining.fgsm(epsilon: 0.1).loss(model: model, inputs: x, labels: labels, using: &draws)
    let threat = try ThreatModel(norm: .lInfinity, epsilon: 0.1)
    func expected(_ targets: [Int]) -> Float {
      var r = SeededGenerator(seed: 0)
      let xAdv = model.withMode(.inference) {
        FGSM().perturb(x, criterion: .misclassification(labels: targets), within: threat, model: model, using: &r)
      }
      return withoutGradients { (crossEntropy(logits: model(x), labels: labels) + crossEntropy(logits: model(xAdv), labels: labels)) * 0.5 }.item
    }
    #expect(Swift.abs(value.loss.item - expected(predictions)) < 1e-6)
    #expect(Swift.abs(value.loss.item - expected(labels)) > 1e-4)
  }

  @Test("objective settings check their values and name what is missing")
  func settings() {
    #expect(ObjectiveSettings(kind: .gradientRegularization).problem == "gradient-regularization needs λ")
    #expect(ObjectiveSettings(kind: .trades, epsilon: 2).problem?.contains("ε must be in") == true)
    #expect(ObjectiveSettings(kind: .gaussianAugmentation, noiseSigma: .nan).problem?.contains("σ") == true)
    #expect(ObjectiveSettings(kind: .distillation, temperature: 50).problem == "distillation needs a teacher and a temperature")
    #expect(ObjectiveSettings(kind: .pgdAdversarial, epsilon: 0.1, steps: 7).problem == nil)
  }
}

@Suite("Objectives compose and resume")
struct ObjectiveCompositionTests {
  @Test("a weighted sum of objectives is the weighted sum of their losses, terms kept per part")
  func weightedSum() throws {
    let model = try Model(spec: ObjectiveTests.spec, seed: 4)
    var rng = SeededGenerator(seed: 2)
    let x = Tensor.uniform([4, 1, 6, 6], using: &rng)
    let labels = [0, 1, 2, 0]
    let a = InputGradientRegularization(lambda: 2), b = AdversarialTraining.fgsm(epsilon: 0.1)
    var r1 = SeededGenerator(seed: 0), r2 = SeededGenerator(seed: 0)
    let sum = WeightedObjectives([(1, a), (0.5, b)]).loss(model: model, inputs: x, labels: labels, using: &r1)
    let la = a.loss(model: model, inputs: x, labels: labels, using: &r2).loss.item
    let lb = b.loss(model: model, inputs: x, labels: labels, using: &r2).loss.item
    #expect(Swift.abs(sum.loss.item - (la + 0.5 * lb)) < 1e-5)
    #expect(sum.terms["0.penalty"] != nil && sum.terms["1.adversarial_ce"] != nil)
  }

  @Test("a run under each randomized objective resumes to the bytes of an uninterrupted one", arguments: [
    ObjectiveSettings(kind: .fgsmAdversarial, epsilon: 0.1),
    ObjectiveSettings(kind: .pgdAdversarial, epsilon: 0.1, steps: 2),
    ObjectiveSettings(kind: .trades, epsilon: 0.1, steps: 2),
    ObjectiveSettings(kind: .gaussianAugmentation, noiseSigma: 0.25),
    ObjectiveSettings(kind: .gaussianAugmentation, epsilon: 0.1, steps: 2, adversarialWeight: 0.5, noiseSigma: 0.25),
    ObjectiveSettings(kind: .gradientRegularization, lambda: 1),
  ])
  func resume(_ objective: ObjectiveSettings) throws {
    let spec = ModelSpec(input: [1, 6, 6], classes: 2, layers: [
      LayerSpec(type: "conv2d", name: "conv", out: 2, kernel: 3), LayerSpec(type: "relu"),
      LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    let train = SyntheticData.halves(32, seed: 1, size: 6)
    let root = temporaryFolder("objective-resume")
    func run(_ name: String, epochs: Int, resume: Bool = false) throws -> Data {
      var settings = TrainingSettings(data: "halves", epochs: epochs, batchSize: 8, seed: 3)
      settings.objective = objective
      let out = root.appendingPathComponent(name)
      try TrainingJob(spec: spec, settings: settings, output: out, objective: try objective.makeObjective())
        .run(train: train, test: nil, resume: resume)
      return try Data(contentsOf: out)
    }
    let whole = try run("whole.safetensors", epochs: 2)
    _ = try run("resumed.safetensors", epochs: 1)
    #expect(try run("resumed.safetensors", epochs: 2, resume: true) == whole, "\(objective.kind.rawValue)")
  }
}
