import PixelAttacks
import PixelNN
import PixelTensor
import PixelTraining

/// Adversarial training: each batch is attacked with the current weights in inference mode, and
/// the model is trained on a mix of clean and adversarial cross-entropy,
/// `L = (1 − w)·CE(f(x), y) + w·CE(f(x_adv), y)`, with `x_adv` detached.
///
/// Two protocols: ``fgsm(epsilon:)`` follows Ross & Doshi-Velez (2018): FGSM towards the
/// model's own predictions (no label leaking), `w = ½`. ``pgd(epsilon:steps:stepSize:weight:)``
/// follows Madry et al. (2018, https://arxiv.org/abs/1706.06083): PGD from a random start against
/// the true labels, `w = 1` by default.
public struct AdversarialTraining: TrainingObjective {
  /// The attack that makes the examples (bounded, L∞ within `epsilon`).
  public var attack: any BoundedAttack
  /// The L∞ budget in pixel units.
  public var epsilon: Float
  /// `w`, the weight of the adversarial term.
  public var adversarialWeight: Float
  /// Attack the model's predictions instead of the labels.
  public var attackPredictions: Bool

  /// Training on `attack`'s examples within `epsilon`, weighted `adversarialWeight` ∈ [0, 1].
  public init(attack: any BoundedAttack, epsilon: Float, adversarialWeight: Float, attackPredictions: Bool) {
    precondition(epsilon >= 0 && epsilon <= 1, "ε must be in [0, 1]")
    precondition(adversarialWeight >= 0 && adversarialWeight <= 1, "the adversarial weight must be in [0, 1]")
    self.attack = attack
    self.epsilon = epsilon
    self.adversarialWeight = adversarialWeight
    self.attackPredictions = attackPredictions
  }

  /// Ross & Doshi-Velez's FGSM adversarial training: FGSM towards the predictions, `(CE + CE_adv) / 2`.
  public static func fgsm(epsilon: Float) -> AdversarialTraining {
    AdversarialTraining(attack: FGSM(), epsilon: epsilon, adversarialWeight: 0.5, attackPredictions: true)
  }

  /// Madry et al.'s PGD adversarial training from a random start.
  /// - Throws: ``AttackError`` for unusable PGD settings.
  public static func pgd(epsilon: Float, steps: Int, stepSize: PGD.StepSize, weight: Float = 1) throws -> AdversarialTraining {
    AdversarialTraining(attack: try PGD(steps: steps, step: stepSize, randomStart: true), epsilon: epsilon,
                        adversarialWeight: weight, attackPredictions: false)
  }

  /// The batch's adversarial examples under the current weights, in inference mode, detached.
  /// - Parameter view: what the attack sees, if not `model` itself (e.g. the model behind input
  ///   noise, for the adversarial mix of noise training).
  public func adversarialExamples(model: Model, attacking view: (any Classifier)? = nil, inputs: Tensor, labels: [Int],
                                  using rng: inout SeededGenerator) -> Tensor {
    let threat = try! ThreatModel(norm: .lInfinity, epsilon: epsilon)   // ε was checked in init
    let target: any Classifier = view ?? model
    return model.withMode(.inference) {
      let targets = attackPredictions ? withoutGradients { target.logits(inputs).argmax(alongAxis: 1) } : labels
      return attack.perturb(inputs.detached(), criterion: .misclassification(labels: targets), within: threat, model: target,
                            using: &rng).detached()
    }
  }

  public func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue {
    loss(model: model, inputs: inputs, labels: labels, adversarial: adversarialExamples(model: model, inputs: inputs, labels: labels,
                                                                                        using: &rng))
  }

  /// The loss given the batch's adversarial examples (constants).
  public func loss(model: Model, inputs: Tensor, labels: [Int], adversarial: Tensor) -> ObjectiveValue {
    let logits = model(inputs)
    let clean = crossEntropy(logits: logits, labels: labels)
    let attacked = crossEntropy(logits: model(adversarial), labels: labels)
    let loss = clean * (1 - adversarialWeight) + attacked * adversarialWeight
    return ObjectiveValue(loss: loss, logits: logits, terms: ["ce": clean.item, "adversarial_ce": attacked.item])
  }
}
