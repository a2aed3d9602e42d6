import Foundation
import Testing
import _TestSupport
import PixelNN
import PixelTensor
@testable import PixelAttacks

/// The tiny relu CNN of `attacks_tiny.safetensors` with its inputs and torchattacks 3.5.1's outputs.
struct AttacksTinyFixture {
  let model: Model
  let x: Tensor
  let labels: [Int]
  let tensors: [String: Tensor]

  init() throws {
    let url = Bundle.module.url(forResource: "attacks_tiny", withExtension: "safetensors", subdirectory: "Fixtures")!
    let f = try SafeTensors.read(from: url)
    let spec = ModelSpec(input: [1, 12, 12], classes: 10, layers: [
      LayerSpec(type: "conv2d", name: "conv1", out: 4, kernel: 3, padding: 1), LayerSpec(type: "relu"),
      LayerSpec(type: "maxpool2d", kernel: 2), LayerSpec(type: "conv2d", name: "conv2", out: 8, kernel: 3),
      LayerSpec(type: "relu"), LayerSpec(type: "maxpool2d", kernel: 2), LayerSpec(type: "flatten"),
      LayerSpec(type: "linear", name: "fc", out: 10)])
    model = try Model(spec: spec, seed: 0)
    var weights: [String: Tensor] = [:]
    for (k, v) in f.tensors where k.hasPrefix("relu_f32.") { weights[String(k.dropFirst(9))] = v }
    try model.loadState(weights, source: url.path)
    model.setMode(.inference)
    x = f.tensors["x"]!
    labels = f.tensors["labels"]!.scalars.map { Int($0) }
    tensors = f.tensors
  }

  func predictions(_ t: Tensor) -> [Int] { withoutGradients { model.logits(t).argmax(alongAxis: 1) } }

  /// Per example ‖a − x‖₂.
  func l2(_ a: Tensor) -> [Float] { withoutGradients { (a - x).l2NormPerSample().scalars } }
}

@Suite("Minimal attacks against torchattacks 3.5.1 (attacks_tiny.safetensors)")
struct MinimalAttackFixtureTests {
  @Test("DeepFool (overshoot per step, as torchattacks) reproduces its adversarial examples")
  func deepFool() throws {
    let f = try AttacksTinyFixture()
    var rng = SeededGenerator(seed: 0)
    let attack = try DeepFool(norm: .l2, steps: 50, overshoot: 0.02, overshootMode: .eachStep)
    let xAdv = attack.perturb(f.x, criterion: .misclassification(labels: f.labels), within: try PixelDomain(), model: f.model, using: &rng)
    let expected = f.tensors["deepfool.x_adv"]!
    #expect(f.predictions(xAdv) == f.predictions(expected))
    for (ours, theirs) in zip(f.l2(xAdv), f.l2(expected)) {
      #expect(Swift.abs(ours - theirs) <= 1e-3 * Swift.max(theirs, 1e-3), "L2 \(ours) vs torchattacks \(theirs)")
    }
    #expect(relativeError(xAdv, expected) < 1e-3)
  }

  @Test("JSMA (θ = 1, γ = 0.1, target (y + 1) mod 10) reproduces its adversarial examples")
  func jsma() throws {
    let f = try AttacksTinyFixture()
    var rng = SeededGenerator(seed: 0)
    let xAdv = try JSMA(theta: 1, gamma: 0.1).perturb(f.x, criterion: .misclassification(labels: f.labels),
                                                      within: try PixelDomain(), model: f.model, using: &rng)
    let expected = f.tensors["jsma.x_adv"]!
    #expect(f.predictions(xAdv) == f.predictions(expected))
    let changedOurs = PerturbationNorm.l0.sizes(withoutGradients { xAdv - f.x })
    let changedTheirs = PerturbationNorm.l0.sizes(withoutGradients { expected - f.x })
    #expect(changedOurs == changedTheirs)
    #expect(relativeError(xAdv, expected) < 1e-3)
  }

  @Test("C&W (c = 1, 100 steps, no search) reaches torchattacks' predictions with L2 norms within 5%")
  func carliniWagner() throws {
    let f = try AttacksTinyFixture()
    var rng = SeededGenerator(seed: 0)
    // torchattacks' early stop watches the batch's total cost, which kept falling on this batch;
    // ours stops each example on its own, so the comparison runs every step.
    let attack = try CarliniWagner(steps: 100, learningRate: 0.01, initialConstant: 1, searchSteps: 1, abortEarly: false)
    let xAdv = attack.perturb(f.x, criterion: .misclassification(labels: f.labels), within: try PixelDomain(), model: f.model, using: &rng)
    let expected = f.tensors["cw.x_adv"]!
    #expect(f.predictions(xAdv) == f.predictions(expected))
    for (ours, theirs) in zip(f.l2(xAdv), f.l2(expected)) {
      #expect(Swift.abs(ours - theirs) <= 0.05 * Swift.max(theirs, 1e-3), "L2 \(ours) vs torchattacks \(theirs)")
    }
  }
}
