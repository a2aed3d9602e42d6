import Foundation
import PixelData
import PixelNN
import PixelTensor

/// Robust accuracy of one attack at one ε on a data set, with the checks that keep an
/// evaluation honest.
/// JSON keys are the property names.
public struct AttackResult: Codable, Sendable {
  /// JSON `attack`: the attack's name (`fgsm`, `pgd-20`, `eot8-pgd-20`).
  public var attack: String
  /// JSON `norm`: `linf` or `l2`.
  public var norm: String
  /// JSON `epsilon`: the budget in pixel units.
  public var epsilon: Double
  /// JSON `targeted`: whether the attack aimed at class `(y + 1) mod K`.
  public var targeted: Bool
  /// The fraction of pixels the mask lets change (1 without a mask).
  public var maskFraction: Double
  /// JSON `count`: examples attacked.
  public var count: Int
  /// JSON `cleanAccuracy`: accuracy without the attack, the mean over the classifications.
  public var cleanAccuracy: Double
  /// JSON `robustAccuracy`: accuracy under the attack, worst case over the classifications.
  public var robustAccuracy: Double
  /// Among examples classified correctly when clean, the fraction the attack fooled
  /// (targeted: that reached their target).
  public var successRate: Double
  /// Mean ‖x_adv − x‖∞ and ‖x_adv − x‖₂ over all examples.
  public var meanLInfinity: Double
  public var meanL2: Double
  /// Largest |x_adv − x| on pixels off the mask: must be exactly 0.
  public var maxOffMaskChange: Double
  /// Largest ‖x_adv − x‖ in the threat norm; must not exceed ε (up to float rounding).
  public var maxPerturbation: Double
  /// Whether every adversarial pixel stayed in bounds.
  public var withinBounds: Bool
  /// JSON `gradientHealth`: input gradients at the clean points, how many were zero or non-finite.
  public var gradientHealth: GradientHealth
}

/// Runs bounded attacks over a data set in batches, in inference mode, with a seeded generator.
public struct AttackRunner {
  /// Images per batch.
  public var batchSize: Int
  /// Seeds the attacks' random starts and the model's randomized layers (reseeded per run).
  public var seed: UInt64
  /// How many times each example is classified (a randomized model answers differently each
  /// time): clean accuracy is the mean over the draws, robust accuracy the worst case.
  public var classifications: Int

  /// A runner with `batchSize`, `seed` and `classifications` per example.
  public init(batchSize: Int = 256, seed: UInt64 = 0, classifications: Int = 1) {
    precondition(batchSize >= 1, "batch size must be positive")
    precondition(classifications >= 1, "classify each example at least once")
    self.batchSize = batchSize
    self.seed = seed
    self.classifications = classifications
  }

  /// Attacks every example of `data`.
  /// - Parameters:
  ///   - targeted: use targets `(y + 1) mod K` instead of untargeted misclassification.
  ///   - progress: after every batch, the images attacked so far and the total.
  ///   - onBatch: receives each batch's clean images, adversarial images and labels (for saving examples).
  ///   - perExample: receives, per batch, whether each example stayed correct in every
  ///     classification and its L∞ and L2 perturbation sizes (what an ensemble combines).
  public func run(_ attack: any BoundedAttack, model: Model, data: Dataset, threat: ThreatModel, targeted: Bool = false,
                  progress: (Int, Int) -> Void = { _, _ in },
                  onBatch: (Tensor, Tensor, [Int]) -> Void = { _, _, _ in },
                  perExample: ([Bool], [Float], [Float]) -> Void = { _, _, _ in }) -> AttackResult {
    var rng = SeededGenerator(seed: seed)
    var cleanCorrect = 0.0, robustCorrect = 0, successes = 0, attempted = 0
    var sumLinf = 0.0, sumL2 = 0.0, maxPert = 0.0
    var audit = PerturbationAudit(mask: threat.mask, bounds: threat.bounds)
    var health = GradientHealth()
    let classes = model.spec.classes
    model.reseedRandomizedLayers(seed)
    model.withMode(.inference) {
      let batches = MiniBatches(data, batchSize: batchSize)
      var done = 0
      for (x, y) in batches {
        let criterion: Criterion = targeted ? Criterion.nextClassTargets(y, classes: classes) : .misclassification(labels: y)
        health.record(attackGradient(x, criterion: criterion, threat: threat, model: model))
        let xAdv = threat.epsilon == 0 ? x : attack.perturb(x, criterion: criterion, within: threat, model: model, using: &rng)
        let draws = classifications
        let (clean, adv) = withoutGradients {
          ((0..<draws).map { _ in model.logits(x).argmax(alongAxis: 1) }, (0..<draws).map { _ in model.logits(xAdv).argmax(alongAxis: 1) })
        }
        var sizes: (linf: [Float], l2: [Float]) = ([], [])
        withoutGradients {
          let delta = xAdv - x
          let linf = delta.abs().flattenedBatch().max(alongAxis: 1).scalars
          let l2 = delta.l2NormPerSample().scalars
          sizes = (linf, l2)
          sumLinf += linf.reduce(0) { $0 + Double($1) }
          sumL2 += l2.reduce(0) { $0 + Double($1) }
          maxPert = Swift.max(maxPert, Double((threat.norm == .lInfinity ? linf : l2).max() ?? 0))
          audit.record(delta: delta, adversarial: xAdv)
        }
        var robustFlags: [Bool] = []
        for i in y.indices {
          let cleanHits = clean.filter { $0[i] == y[i] }.count
          cleanCorrect += Double(cleanHits) / Double(draws)
          // Worst case over the draws: robust only if every classification is right.
          let robust = adv.allSatisfy { $0[i] == y[i] }
          robustFlags.append(robust)
          if robust { robustCorrect += 1 }
          if cleanHits == draws {
            attempted += 1
            let fooled = targeted ? adv.contains { $0[i] == criterion.labels[i] } : !robust
            if fooled { successes += 1 }
          }
        }
        onBatch(x, xAdv, y)
        perExample(robustFlags, sizes.linf, sizes.l2)
        done += y.count
        progress(done, data.count)
      }
    }
    let n = Double(Swift.max(data.count, 1))
    return AttackResult(attack: attack.name, norm: threat.norm.rawValue, epsilon: threat.epsilon.decimal, targeted: targeted,
                        maskFraction: audit.maskFraction, count: data.count, cleanAccuracy: cleanCorrect / n,
                        robustAccuracy: Double(robustCorrect) / n,
                        successRate: Double(successes) / Double(Swift.max(attempted, 1)), meanLInfinity: sumLinf / n,
                        meanL2: sumL2 / n, maxOffMaskChange: audit.maxOffMaskChange, maxPerturbation: maxPert,
                        withinBounds: audit.withinBounds,
                        gradientHealth: health)
  }

}
