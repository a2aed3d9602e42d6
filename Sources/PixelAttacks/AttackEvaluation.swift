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

/// What a bounded attack did to each example, in data order, with the threat-model checks of
/// the examples seen: everything ``AttackResult`` summarises. Outcomes of consecutive parts of a
/// data set concatenate, and the summary of the concatenation is the single run's, bit for bit,
/// because every sum runs over the examples in order. JSON keys are the property names.
public struct AttackOutcomes: Codable, Sendable, Equatable {
  public var attack: String
  public var norm: String
  public var epsilon: Double
  public var targeted: Bool
  /// Classifications per example (clean and adversarial).
  public var classifications: Int
  public var maskFraction: Double
  /// Per example: clean classifications that were right.
  public var cleanHits: [Int]
  /// Per example: every adversarial classification was right.
  public var robust: [Bool]
  /// Per example: the attack succeeded (fooled, or reached the target in some classification).
  public var succeeded: [Bool]
  /// Per example: ‖x_adv − x‖∞ and ‖x_adv − x‖₂.
  public var lInfinity: [Float]
  public var l2: [Float]
  public var maxOffMaskChange: Double
  public var maxPerturbation: Double
  public var withinBounds: Bool
  public var gradientHealth: GradientHealth

  /// The examples recorded.
  public var count: Int { robust.count }

  /// Whether every per-example list holds `count` examples with possible values (a part read
  /// back from a file).
  public func holds(_ count: Int) -> Bool {
    [cleanHits.count, succeeded.count, lInfinity.count, l2.count].allSatisfy { $0 == self.count } && self.count == count
      && classifications >= 1 && cleanHits.allSatisfy { (0...classifications).contains($0) }
  }

  /// What two parts of one row share: attack, norm, ε, targeting, classifications and mask.
  public var rowKey: String { "\(attack) \(norm) \(epsilon) \(targeted) \(classifications) \(maskFraction)" }

  /// The outcomes of `parts`, consecutive parts of one data set attacked with one attack at one ε.
  /// - Precondition: the parts agree on attack, norm, ε, targeting, classifications and mask.
  public static func concatenating(_ parts: [AttackOutcomes]) -> AttackOutcomes {
    var out = parts[0]
    for p in parts.dropFirst() {
      precondition(p.attack == out.attack && p.norm == out.norm && p.epsilon == out.epsilon && p.targeted == out.targeted
                   && p.classifications == out.classifications && p.maskFraction == out.maskFraction,
                   "outcomes of one attack at one ε")
      out.cleanHits += p.cleanHits; out.robust += p.robust; out.succeeded += p.succeeded
      out.lInfinity += p.lInfinity; out.l2 += p.l2
      out.maxOffMaskChange = Swift.max(out.maxOffMaskChange, p.maxOffMaskChange)
      out.maxPerturbation = Swift.max(out.maxPerturbation, p.maxPerturbation)
      out.withinBounds = out.withinBounds && p.withinBounds
      out.gradientHealth.examples += p.gradientHealth.examples
      out.gradientHealth.zero += p.gradientHealth.zero
      out.gradientHealth.nonFinite += p.gradientHealth.nonFinite
    }
    return out
  }
}

extension AttackResult {
  /// The summary of `outcomes`: means over all examples; the success rate over the examples
  /// classified correctly every time when clean.
  public init(_ o: AttackOutcomes) {
    let n = Double(Swift.max(o.count, 1))
    var cleanCorrect = 0.0, attempted = 0, successes = 0
    for i in 0..<o.count {
      cleanCorrect += Double(o.cleanHits[i]) / Double(o.classifications)
      if o.cleanHits[i] == o.classifications {
        attempted += 1
        if o.succeeded[i] { successes += 1 }
      }
    }
    self.init(attack: o.attack, norm: o.norm, epsilon: o.epsilon, targeted: o.targeted, maskFraction: o.maskFraction,
              count: o.count, cleanAccuracy: cleanCorrect / n, robustAccuracy: Double(o.robust.filter { $0 }.count) / n,
              successRate: Double(successes) / Double(Swift.max(attempted, 1)),
              meanLInfinity: o.lInfinity.reduce(0) { $0 + Double($1) } / n, meanL2: o.l2.reduce(0) { $0 + Double($1) } / n,
              maxOffMaskChange: o.maxOffMaskChange, maxPerturbation: o.maxPerturbation, withinBounds: o.withinBounds,
              gradientHealth: o.gradientHealth)
  }
}

/// Runs bounded attacks over a data set in batches, in inference mode, with seeded generators.
public struct AttackRunner {
  /// Images per batch.
  public var batchSize: Int
  /// Seeds the attacks' random starts and the model's randomized layers.
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

  /// Attacks every example of `data` and summarises.
  public func run(_ attack: any BoundedAttack, model: Model, data: Dataset, threat: ThreatModel, targeted: Bool = false,
                  progress: (Int, Int) -> Void = { _, _ in },
                  onBatch: (Tensor, Tensor, [Int]) -> Void = { _, _, _ in }) -> AttackResult {
    AttackResult(outcomes(attack, model: model, data: data, threat: threat, targeted: targeted, progress: progress, onBatch: onBatch))
  }

  /// Attacks every example of `data`, recording each one's outcome.
  ///
  /// Each batch's random draws (the attack's, and the model's randomized layers, reseeded)
  /// come from the stream `(seed, first + b)` of its first example's global index `first + b`:
  /// a data set cut into shards at batch boundaries gives the single run's outcomes.
  /// - Parameters:
  ///   - first: the global index of `data`'s first example (a shard's offset).
  ///   - targeted: use targets `(y + 1) mod K` instead of untargeted misclassification.
  ///   - progress: after every batch, the images attacked so far and the total.
  ///   - onBatch: receives each batch's clean images, adversarial images and labels (for saving examples).
  public func outcomes(_ attack: any BoundedAttack, model: Model, data: Dataset, first: Int = 0, threat: ThreatModel,
                       targeted: Bool = false, progress: (Int, Int) -> Void = { _, _ in },
                       onBatch: (Tensor, Tensor, [Int]) -> Void = { _, _, _ in }) -> AttackOutcomes {
    var audit = PerturbationAudit(mask: threat.mask, bounds: threat.bounds)
    var out = AttackOutcomes(attack: attack.name, norm: threat.norm.rawValue, epsilon: threat.epsilon.decimal, targeted: targeted,
                             classifications: classifications, maskFraction: audit.maskFraction, cleanHits: [], robust: [],
                             succeeded: [], lInfinity: [], l2: [], maxOffMaskChange: 0, maxPerturbation: 0, withinBounds: true,
                             gradientHealth: GradientHealth())
    let classes = model.spec.classes
    model.withMode(.inference) {
      var done = 0
      for (x, y) in MiniBatches(data, batchSize: batchSize) {
        var rng = SeededGenerator(seed: seed, stream: first + done)
        model.reseedRandomizedLayers(rng.next())
        let criterion: Criterion = targeted ? Criterion.nextClassTargets(y, classes: classes) : .misclassification(labels: y)
        out.gradientHealth.record(attackGradient(x, criterion: criterion, threat: threat, model: model))
        let xAdv = threat.epsilon == 0 ? x : attack.perturb(x, criterion: criterion, within: threat, model: model, using: &rng)
        let draws = classifications
        let (clean, adv) = withoutGradients {
          ((0..<draws).map { _ in model.logits(x).argmax(alongAxis: 1) }, (0..<draws).map { _ in model.logits(xAdv).argmax(alongAxis: 1) })
        }
        withoutGradients {
          let delta = xAdv - x
          let linf = delta.abs().flattenedBatch().max(alongAxis: 1).scalars
          let l2 = delta.l2NormPerSample().scalars
          out.lInfinity += linf
          out.l2 += l2
          out.maxPerturbation = Swift.max(out.maxPerturbation, Double((threat.norm == .lInfinity ? linf : l2).max() ?? 0))
          audit.record(delta: delta, adversarial: xAdv)
        }
        for i in y.indices {
          // Worst case over the draws: robust only if every classification is right.
          let robust = adv.allSatisfy { $0[i] == y[i] }
          out.cleanHits.append(clean.filter { $0[i] == y[i] }.count)
          out.robust.append(robust)
          out.succeeded.append(targeted ? adv.contains { $0[i] == criterion.labels[i] } : !robust)
        }
        onBatch(x, xAdv, y)
        done += y.count
        progress(done, data.count)
      }
    }
    out.maxOffMaskChange = audit.maxOffMaskChange
    out.withinBounds = audit.withinBounds
    return out
  }
}
