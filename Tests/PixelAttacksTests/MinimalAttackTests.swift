import Foundation
import Testing
import _TestSupport
import PixelData
import PixelMasks
import PixelNN
import PixelTensor
@testable import PixelAttacks

@Suite("Minimal attacks: contracts, closed forms, gradients, reports")
struct MinimalAttackTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let attack: String, masked: Bool
    var testDescription: String { "\(attack)\(masked ? " masked" : "")" }
    func make() throws -> any MinimalAttack {
      switch attack {
      case "deepfool-l2": return try DeepFool(norm: .l2, steps: 30)
      case "deepfool-linf": return try DeepFool(norm: .lInfinity, steps: 30)
      case "cw": return try CarliniWagner(steps: 40, learningRate: 0.05, initialConstant: 1, searchSteps: 3)
      default: return try JSMA(theta: 1, gamma: 0.5)
      }
    }
  }

  static let cases: [Case] = ["deepfool-l2", "deepfool-linf", "cw", "jsma"].flatMap { a in [false, true].map { Case(attack: a, masked: $0) } }

  @Test("bounds, exact zero off the mask, success implies misclassification, seeded determinism", arguments: cases)
  func contract(_ c: Case) throws {
    let model = TinyModels.trained()
    let data = TinyModels.halves(24, seed: 9)
    let mask = c.masked ? PixelMask.pattern(.v1, height: 8, width: 8).tensor(channels: 1) : nil
    let domain = try PixelDomain(mask: mask)
    let criterion = Criterion.misclassification(labels: data.labels)
    var r1 = SeededGenerator(seed: 3), r2 = SeededGenerator(seed: 3)
    let x = data.images
    let xAdv = try c.make().perturb(x, criterion: criterion, within: domain, model: model, using: &r1)
    expectAttackContract(xAdv, clean: x, mask: mask)
    #expect(try c.make().perturb(x, criterion: criterion, within: domain, model: model, using: &r2).scalars == xAdv.scalars)
    let result = MinimalAttackRunner(batchSize: 8, seed: 1).run(try c.make(), model: model, data: data, domain: domain)
    #expect(result.maxOffMaskChange == 0 && result.withinBounds)
    #expect(result.successRate > 0)
    // Every reported size belongs to an example the model now misclassifies.
    let fooled = Criterion.misclassification(labels: data.labels).isAdversarial(logits: withoutGradients { model.logits(xAdv) })
    let sizes = try c.make().norm.sizes(withoutGradients { xAdv - x })
    for (i, size) in result.norms.enumerated() {
      if let size, size > 0 {
        #expect(fooled[i])
        #expect(Swift.abs(size - sizes[i]) <= 1e-6 * Swift.max(1, size))
      }
    }
  }

  @Test("DeepFool on a linear model takes the closed-form step to the boundary", arguments: [PerturbationNorm.l2, .lInfinity])
  func deepFoolClosedForm(_ norm: PerturbationNorm) throws {
    let spec = ModelSpec(input: [1, 1, 3], classes: 2, layers: [LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    let model = try Model(spec: spec, seed: 0)
    try model.loadState(["fc.weight": Tensor([0.5, -1, 0.25, -0.5, 1, 0.75], shape: [2, 3]), "fc.bias": Tensor([0.6, 0], shape: [2])],
                        source: "hand")
    model.setMode(.inference)
    let x = Tensor([0.5, 0.4, 0.3], shape: [1, 1, 1, 3])
    var rng = SeededGenerator(seed: 0)
    let attack = try DeepFool(norm: norm, steps: 1, overshoot: 0.02)
    let xAdv = attack.perturb(x, criterion: .misclassification(labels: [0]), within: try PixelDomain(), model: model, using: &rng)
    // w = w₁ − w₀ = (−1, 2, 0.5); f = z₁ − z₀ at x.
    let w: [Float] = [-1, 2, 0.5], x0: [Float] = [0.5, 0.4, 0.3]
    let f = zip(w, x0).reduce(Float(0)) { $0 + $1.0 * $1.1 } - 0.6
    let expected: [Float]
    if norm == .l2 {
      // The step reaches 10⁻⁴ past the boundary (the paper's code, Foolbox), times 1 + overshoot.
      let n2 = w.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
      expected = zip(x0, w).map { $0 + 1.02 * (Swift.abs(f) / n2 + 1e-4) / n2 * $1 }
    } else {
      let n1 = w.reduce(Float(0)) { $0 + Swift.abs($1) }
      expected = zip(x0, w).map { $0 + 1.02 * (Swift.abs(f) / n1 + 1e-4) * ($1 > 0 ? 1 : -1) }
    }
    for (a, e) in zip(xAdv.scalars, expected) { #expect(Swift.abs(a - e) < 1e-5) }
    #expect(withoutGradients { model.logits(xAdv).argmax(alongAxis: 1) } == [1])
  }

  @Test("the C&W objective's gradient in tanh space matches central differences")
  func carliniWagnerGradient() throws {
    let model = TinyModels.trained()
    let data = TinyModels.halves(3, seed: 4)
    let attack = try CarliniWagner(confidence: 0.5)
    let clean = data.images.scalars
    var rng = SeededGenerator(seed: 2)
    let w = clean.map { Float(atanh(Double(0.999999 * (2 * $0 - 1)))) * 0.5 + Float.random(in: -0.3...0.3, using: &rng) }
    let mask = [Float](repeating: 1, count: 64), constants: [Float] = [0.7, 2, 5]
    let criterion = Criterion.misclassification(labels: data.labels)
    let o = attack.objective(w, clean: clean, mask: mask, constants: constants, shape: data.images.shape, criterion: criterion, model: model)
    let v = (0..<w.count).map { _ in Float.random(in: -1...1, using: &rng) }
    let h: Float = 1e-3
    func total(_ s: Float) -> Double {
      let shifted = zip(w, v).map { $0 + s * $1 }
      return attack.objective(shifted, clean: clean, mask: mask, constants: constants, shape: data.images.shape, criterion: criterion,
                              model: model).losses.reduce(0) { $0 + Double($1) }
    }
    let numeric = (total(h) - total(-h)) / Double(2 * h)
    let analytic = zip(o.gradient, v).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(Swift.abs(numeric - analytic) <= 1e-2 * Swift.max(Swift.abs(analytic), 1e-2), "\(numeric) vs \(analytic)")
  }

  @Test("sizes per norm and the accuracy-versus-ε curve they imply", arguments: [
    // (sizes with nil = not fooled and 0 = misclassified clean, ε, expected accuracy)
    ([0.5, nil, 0, 1.5], 0.0, 0.5), ([0.5, nil, 0, 1.5], 0.5, 0.5), ([0.5, nil, 0, 1.5], 0.75, 0.5),
    ([0.5, nil, 0, 1.5], 1.5, 0.25), ([0.5, nil, 0, 1.5], 9, 0.25)
  ] as [([Double?], Double, Double)])
  func curve(_ sizes: [Double?], _ epsilon: Double, _ accuracy: Double) {
    #expect(MinimalAttackResult.accuracy(norms: sizes, clean: sizes.map { $0 != 0 }, at: epsilon) == accuracy - (epsilon < 0.5 ? -0.25 : 0))
  }

  @Test("L0 counts changed locations over channels, L2 and L∞ per example")
  func sizes() {
    let delta = Tensor([0, 0.3, 0, -0.4, 0, 0, 0, 0.1], shape: [1, 2, 2, 2])
    #expect(PerturbationNorm.l0.sizes(delta) == [2])
    #expect(Swift.abs(PerturbationNorm.l2.sizes(delta)[0] - Double(Float(0.26).squareRoot())) < 1e-6)
    #expect(Swift.abs(PerturbationNorm.lInfinity.sizes(delta)[0] - 0.4) < 1e-7)
  }

  @Test("an unbounded attack that fails on correct examples, or moves masked-out pixels, is flagged")
  func guards() {
    let r = MinimalAttackResult(attack: "deepfool-l2", norm: "l2", targeted: false, maskFraction: 1, count: 2, cleanAccuracy: 1,
                                successRate: 0.5, medianNorm: 1, meanNorm: 1, norms: [1, nil], curve: [], maxOffMaskChange: 0.1,
                                withinBounds: true, secondsPerImage: 0, gradientHealth: GradientHealth())
    let w = MinimalAttackReport.guards([r])
    #expect(w.contains { $0.contains("off the mask") })
    #expect(w.contains { $0.contains("1 failed") })
  }
}
