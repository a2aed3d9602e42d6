import PixelAttacks
import PixelNN
import PixelTensor
import PixelTraining

/// TRADES (Zhang et al., ICML 2019, https://arxiv.org/abs/1901.08573):
/// `L = CE(f(x), y) + β · KL(f(x) ‖ f(x_adv))`, with `x_adv` found by L∞ PGD on the KL term from
/// `x + 0.001·N(0, 1)` (the authors' start), in inference mode, then detached.
public struct TRADES: TrainingObjective {
  /// β, the weight of the robustness term (the paper's default is 6).
  public var beta: Float
  /// The L∞ budget in pixel units.
  public var epsilon: Float
  public var steps: Int
  /// The PGD step in pixel units.
  public var stepSize: Float

  /// TRADES with `beta`, ε, and `steps` PGD steps of `stepSize`.
  public init(beta: Float = 6, epsilon: Float, steps: Int = 10, stepSize: Float) {
    precondition(beta >= 0 && beta.isFinite && epsilon >= 0 && epsilon <= 1 && steps >= 1 && stepSize > 0,
                 "TRADES needs β ≥ 0, ε in [0, 1], steps ≥ 1 and a positive step")
    self.beta = beta
    self.epsilon = epsilon
    self.steps = steps
    self.stepSize = stepSize
  }

  /// The example maximising `KL(f(x) ‖ f(x'))` within the ball.
  func adversarial(_ model: Model, _ x: Tensor, using rng: inout SeededGenerator) -> Tensor {
    let threat = try! ThreatModel(norm: .lInfinity, epsilon: epsilon)   // ε was checked in init
    return model.withMode(.inference) {
      let clean = withoutGradients { model(x) }.detached()
      var xAdv = threat.project(x + Tensor.normal(x.shape, standardDeviation: 0.001, using: &rng), around: x)
      for _ in 0..<steps {
        let probe = xAdv.detached().requiringGradient()
        let kl = withGradients { klDivergence(logits: clean, model(probe), reduction: .sum) }
        let g = gradients(of: kl, wrt: [probe])[0]
        xAdv = withoutGradients { threat.project(probe.detached() + g.sign() * stepSize, around: x) }
      }
      return xAdv.detached()
    }
  }

  public func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue {
    loss(model: model, inputs: inputs, labels: labels, adversarial: adversarial(model, inputs.detached(), using: &rng))
  }

  /// The loss given the batch's adversarial examples `xAdv` (constants).
  public func loss(model: Model, inputs: Tensor, labels: [Int], adversarial xAdv: Tensor) -> ObjectiveValue {
    let logits = model(inputs)
    let ce = crossEntropy(logits: logits, labels: labels)
    let kl = klDivergence(logits: logits, model(xAdv))
    return ObjectiveValue(loss: ce + kl * beta, logits: logits, terms: ["ce": ce.item, "kl": kl.item])
  }
}
