import Foundation
import Testing
import PixelNN
import PixelTensor
import PixelTraining
import _TestSupport
@testable import PixelDefenses

@Suite("Parametric noise injection (He et al. 2019): gradients, statistics, specs, training")
struct ParametricNoiseTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let target: ParametricNoise.Target
    let convolution: Bool
    var testDescription: String { name }
  }

  static let cases = [
    Case(name: "weight noise on a convolution", target: .weight, convolution: true),
    Case(name: "weight noise on a linear layer", target: .weight, convolution: false),
    Case(name: "output noise on a convolution", target: .activation, convolution: true),
    Case(name: "output noise on a linear layer", target: .activation, convolution: false),
  ]

  /// The layer of `c` and an input for it.
  static func layer(_ c: Case, alpha: Float = 0.4) -> (ParametricNoise, Tensor) {
    var rng = SeededGenerator(seed: 3)
    let inner: any Layer = c.convolution
      ? Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, using: &rng)
      : Linear(inputFeatures: 5, outputFeatures: 4, using: &rng)
    let x = c.convolution ? Tensor.normal([2, 2, 4, 4], using: &rng) : Tensor.normal([3, 5], using: &rng)
    return (ParametricNoise(inner, target: c.target, alpha: alpha, seed: 11), x)
  }

  /// The inner layer's weight.
  static func weight(_ noisy: ParametricNoise) -> Parameter {
    (noisy.layer as? Conv2D)?.weight ?? (noisy.layer as! Linear).weight
  }

  /// The layer as a function of its input, α and weight, with the noise held by reseeding
  /// before each call (σ of the weight or output moves with them and is differentiated).
  static func function(_ noisy: ParametricNoise) -> ([Tensor]) -> Tensor {
    { inputs in
      noisy.alpha.value = inputs[1]
      weight(noisy).value = inputs[2]
      noisy.reseed(7)
      // softplus makes the output curved in α, so the second-order check has something to see.
      return noisy(inputs[0]).softplus()
    }
  }

  @Test("first and second derivatives in the input, α and the weight match central differences", arguments: cases)
  func derivatives(_ c: Case) throws {
    let (noisy, x) = Self.layer(c)
    var rng = SeededGenerator(seed: 5)
    let at = [x, Tensor([0.4], shape: [1]), Self.weight(noisy).value]
    let first = checkDirectionalDerivative(Self.function(noisy), at: at, step: 1e-2, using: &rng)
    #expect(first.relativeError < 1e-2, "\(c.name): \(first)")
    let mixed = checkSecondOrder(Self.function(noisy), at: at, first: [0], second: [1, 2], step: 1e-2, using: &rng)
    #expect(mixed.relativeError < 2e-2, "\(c.name), ∂²/∂x∂(α, W): \(mixed)")
    let hessian = checkSecondOrder(Self.function(noisy), at: at, step: 1e-2, using: &rng)
    #expect(hessian.relativeError < 2e-2, "\(c.name), Hessian: \(hessian)")
  }

  @Test("α = 0 is the plain layer bit for bit; the noise has the tensor's spread times α", arguments: cases)
  func statistics(_ c: Case) throws {
    let (silent, x) = Self.layer(c, alpha: 0)
    #expect(silent(x).scalars == silent.layer(x).scalars)
    let (noisy, _) = Self.layer(c, alpha: 0.5)
    let clean = noisy.layer(x)
    // Output noise is α·σ_y per element; weight noise reaches the output through the layer, so
    // compare its spread with the same draws pushed through by hand: linear in α.
    var deviations: [Double] = []
    for _ in 0..<200 { deviations += zip(noisy(x).scalars, clean.scalars).map { Double($0 - $1) } }
    let spread = (deviations.reduce(0) { $0 + $1 * $1 } / Double(deviations.count)).squareRoot()
    let mean = deviations.reduce(0, +) / Double(deviations.count)
    #expect(Swift.abs(mean) < 0.1 * spread, "\(c.name): mean \(mean), spread \(spread)")
    if c.target == .activation {
      let y = clean.scalars.map(Double.init), m = y.reduce(0, +) / Double(y.count)
      let sigma = (y.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(y.count - 1)).squareRoot()
      #expect(Swift.abs(spread / (0.5 * sigma) - 1) < 0.05, "\(c.name): spread \(spread), α·σ_y \(0.5 * sigma)")
    } else {
      let (twice, _) = Self.layer(c, alpha: 1)
      var wider: [Double] = []
      for _ in 0..<200 { wider += zip(twice(x).scalars, clean.scalars).map { Double($0 - $1) } }
      let spread1 = (wider.reduce(0) { $0 + $1 * $1 } / Double(wider.count)).squareRoot()
      #expect(Swift.abs(spread1 / spread - 2) < 0.15, "\(c.name): α = 1 spreads \(spread1), α = ½ \(spread)")
    }
  }

  static let plain = ModelSpec(input: [1, 6, 6], classes: 2, layers: [
    LayerSpec(type: "conv2d", name: "conv", out: 2, kernel: 3), LayerSpec(type: "relu"),
    LayerSpec(type: "residual", name: "block", body: [LayerSpec(type: "conv2d", name: "inner", out: 2, kernel: 3, padding: 1)]),
    LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 5), LayerSpec(type: "linear", out: 2)])

  @Test("injection wraps every convolution and linear layer, keeps parameter names, and is idempotent", arguments: ParametricNoise.Target.allCases)
  func injection(_ target: ParametricNoise.Target) throws {
    let spec = try ParametricNoise.inject(into: Self.plain, target: target, alpha: 0.3)
    #expect(try ParametricNoise.inject(into: spec, target: target) == spec)
    let base = try Model(spec: Self.plain, seed: 1)
    let noisy = try Model(spec: spec, seed: 2, builder: .withDefenses)
    let names = Set(noisy.namedParameters.map(\.name)), plainNames = Set(base.namedParameters.map(\.name))
    let added = names.subtracting(plainNames)
    #expect(plainNames.isSubset(of: names) && added.count == 4, "\(names.sorted())")
    for alpha in added { #expect(alpha.hasSuffix(".alpha") && plainNames.contains(alpha.dropLast(5) + "weight"), "\(alpha)") }
    try noisy.loadState(base.stateTensors, source: "plain", strict: false)
    #expect(noisy.isRandomized)
    for (name, p) in noisy.namedParameters where name.hasSuffix(".alpha") { #expect(p.value.scalars == [0.3]) }
    // Saved and loaded, the spec rebuilds the same model.
    let round = try ModelSpec.decode(Data(spec.jsonString().utf8), source: "round trip")
    #expect(round == spec)
  }

  @Test("bad pni specs are refused, naming the problem")
  func badSpecs() throws {
    func spec(_ options: [String: Any]) throws -> ModelSpec {
      var layer = LayerSpec(type: "pni", name: "p")
      if let t = options["target"] as? String { try layer.setOption("target", t) }
      if let a = options["alpha"] as? Double { try layer.setOption("alpha", a) }
      if let inner = options["layer"] as? LayerSpec { try layer.setOption("layer", inner) }
      return ModelSpec(input: [4], classes: 2, layers: [layer])
    }
    let linear = LayerSpec(type: "linear", out: 2)
    for (options, message) in [
      ([:], "pni needs 'layer'"),
      (["layer": LayerSpec(type: "relu")], "wraps a conv2d or a linear"),
      (["layer": LayerSpec(type: "linear", name: "fc", out: 2)], "drop its own"),
      (["layer": linear, "target": "bias"], "weight or activation"),
      (["layer": linear, "alpha": 1e9], "alpha"),
    ] as [([String: Any], String)] {
      #expect { try Model(spec: spec(options), seed: 0, builder: .withDefenses) } throws: { "\($0)".contains(message) }
    }
  }

  @Test("the adversarial mix of noise training is (1 − w)·CE(noisy) + w·CE(noisy adversarial), within ε")
  func adversarialMix() throws {
    let model = try Model(spec: ObjectiveTests.spec, seed: 4)
    var rng = SeededGenerator(seed: 2)
    let x = Tensor.uniform([4, 1, 6, 6], using: &rng)
    let labels = [0, 1, 2, 0]
    let adversary = try AdversarialTraining.pgd(epsilon: 0.1, steps: 3, stepSize: .absolute(0.04), weight: 0.3)
    var draws = SeededGenerator(seed: 0)
    let value = GaussianAugmentation(sigma: 0.2, adversary: adversary).loss(model: model, inputs: x, labels: labels, using: &draws)
    let ce = try #require(value.terms["ce"]), adv = try #require(value.terms["adversarial_ce"])
    #expect(Swift.abs(value.loss.item - (0.7 * ce + 0.3 * adv)) < 1e-5)
    #expect(adv > ce, "the attack raises the loss: ce \(ce), adversarial \(adv)")
    #expect(ObjectiveSettings(kind: .pni, adversarialWeight: 0.5).problem == "the adversarial mix of pni needs ε")
    #expect(ObjectiveSettings(kind: .pni, pniTarget: "bias").problem?.contains("weight or activation") == true)
    let pni = ObjectiveSettings(kind: .pni, epsilon: 0.1, pniTarget: "activation")
    let objective = try #require(try pni.makeObjective() as? GaussianAugmentation)
    #expect(objective.sigma == 0 && objective.adversary?.adversarialWeight == 0.5)
    #expect(try pni.architecture(for: ObjectiveTests.spec).layers.map(\.type) == ["pni", "softplus", "flatten", "pni"])
  }

  @Test("PNI adversarial training moves α and resumes to the bytes of an uninterrupted run")
  func trains() throws {
    let objective = ObjectiveSettings(kind: .pni, epsilon: 0.2, steps: 2, pniTarget: "weight", pniAlpha: 0.25)
    let spec = try objective.architecture(for: Self.plain)
    let train = SyntheticData.halves(32, seed: 1, size: 6)
    let root = temporaryFolder("pni-resume")
    defer { try? FileManager.default.removeItem(at: root) }
    func run(_ name: String, epochs: Int, resume: Bool = false) throws -> (Data, Model) {
      var settings = TrainingSettings(data: "halves", epochs: epochs, batchSize: 8, learningRate: 0.01, seed: 3)
      settings.objective = objective
      let out = root.appendingPathComponent(name)
      let (model, _) = try TrainingJob(spec: spec, settings: settings, output: out, objective: try objective.makeObjective(),
                                       builder: .withDefenses).run(train: train, test: nil, resume: resume)
      return (try Data(contentsOf: out), model)
    }
    let (whole, model) = try run("whole.safetensors", epochs: 2)
    _ = try run("resumed.safetensors", epochs: 1)
    #expect(try run("resumed.safetensors", epochs: 2, resume: true).0 == whole)
    let alphas = model.namedParameters.filter { $0.name.hasSuffix(".alpha") }.map { $0.parameter.value.item }
    #expect(alphas.count == 4 && alphas.allSatisfy { $0 != 0.25 && $0.isFinite }, "\(alphas)")
  }
}
