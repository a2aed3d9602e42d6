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
    let (loaded, f) = try TinyFixtureCNN.load("attacks_tiny")
    model = loaded
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
