import Foundation
import PixelData
import PixelNN
import PixelTensor

/// What a minimal attack found on a data set: per example the smallest perturbation it fooled
/// the model with, and the accuracy-versus-ε curve those sizes imply.
/// JSON keys are the property names.
public struct MinimalAttackResult: Codable, Sendable {
  /// One point of the accuracy-versus-ε curve.
  public struct CurvePoint: Codable, Sendable, Equatable {
    /// The budget in ``norm`` units (pixels for L0).
    public var epsilon: Double
    /// The share of examples classified correctly whose minimal perturbation exceeds ε (or that
    /// the attack never fooled).
    public var accuracy: Double
  }

  /// JSON `attack`: the attack's name (`deepfool-l2`, `cw-l2`, `jsma`).
  public var attack: String
  /// JSON `norm`: `l0`, `l2` or `linf`.
  public var norm: String
  /// JSON `targeted`: whether success meant reaching `(y + 1) mod K`.
  public var targeted: Bool
  /// The fraction of pixels the mask lets change (1 without a mask).
  public var maskFraction: Double
  /// JSON `count`: examples attacked.
  public var count: Int
  /// JSON `cleanAccuracy`: accuracy without the attack.
  public var cleanAccuracy: Double
  /// Among examples classified correctly, the share the attack fooled.
  public var successRate: Double
  /// Median and mean perturbation size over the fooled examples (`nil` when none was fooled).
  public var medianNorm: Double?
  public var meanNorm: Double?
  /// JSON `norms`: per example in data order, the perturbation size when fooled, 0 when already
  /// misclassified, `null` (∞) when the attack failed.
  public var norms: [Double?]
  /// JSON `curve`: accuracy at each ε.
  public var curve: [CurvePoint]
  /// Largest |x_adv − x| on pixels off the mask: must be exactly 0.
  public var maxOffMaskChange: Double
  /// Whether every adversarial pixel stayed in bounds.
  public var withinBounds: Bool
  /// Wall-clock seconds per attacked image.
  public var secondsPerImage: Double
  /// JSON `gradientHealth`: input gradients (on the mask) at the clean points, how many were zero
  /// or non-finite.
  public var gradientHealth: GradientHealth

  /// Accuracy at `epsilon`: correct examples not fooled within ε, over all examples.
  public func accuracy(at epsilon: Double) -> Double {
    Self.accuracy(norms: norms, clean: norms.map { $0 != 0 }, at: epsilon)
  }

  static func accuracy(norms: [Double?], clean: [Bool], at epsilon: Double) -> Double {
    guard !norms.isEmpty else { return 0 }
    let robust = zip(norms, clean).filter { size, correct in correct && (size.map { $0 > epsilon } ?? true) }.count
    return Double(robust) / Double(norms.count)
  }

  /// `points` budgets from 0 to the largest finite size found (L0: every integer up to it).
  static func grid(norms: [Double?], norm: PerturbationNorm, points: Int = 51) -> [Double] {
    let top = norms.compactMap { $0 }.max() ?? 0
    guard top > 0 else { return [0] }
    if norm == .l0 { return (0...Int(top)).map(Double.init) }
    return (0..<points).map { top * Double($0) / Double(points - 1) }
  }
}

/// Runs minimal attacks over a data set in batches, in inference mode, with a seeded generator.
public struct MinimalAttackRunner: Sendable {
  /// Images per batch.
  public var batchSize: Int
  /// Seeds the attacks' random choices and the model's randomized layers.
  public var seed: UInt64

  /// A runner with `batchSize` and `seed`.
  public init(batchSize: Int = 256, seed: UInt64 = 0) {
    precondition(batchSize >= 1, "batch size must be positive")
    self.batchSize = batchSize
    self.seed = seed
  }

  /// Attacks every example of `data` and measures the perturbations it returns.
  ///
  /// Each batch's random draws (the attack's, and the model's randomized layers, reseeded) come
  /// from the stream `(seed, first + b)` of its first example's global index, so a data set cut
  /// into shards at batch boundaries gives the single run's sizes.
  /// - Parameters:
  ///   - first: the global index of `data`'s first example (a shard's offset).
  ///   - epsilons: the curve's budgets; `nil` spans 0 to the largest size found.
  ///   - progress: after every batch, the images attacked so far and the total.
  ///   - onBatch: each batch's clean images, adversarial images and labels.
  public func run(_ attack: any MinimalAttack, model: Model, data: Dataset, first: Int = 0, domain: PixelDomain, targeted: Bool = false,
                  epsilons: [Double]? = nil, progress: (Int, Int) -> Void = { _, _ in },
                  onBatch: (Tensor, Tensor, [Int]) -> Void = { _, _, _ in }) -> MinimalAttackResult {
    var norms: [Double?] = []
    var audit = PerturbationAudit(mask: domain.mask, bounds: domain.bounds)
    var health = GradientHealth()
    let classes = model.spec.classes
    let started = ContinuousClock.now
    model.withMode(.inference) {
      var done = 0
      for (x, y) in MiniBatches(data, batchSize: batchSize) {
        var rng = SeededGenerator(seed: seed, stream: first + done)
        model.reseedRandomizedLayers(rng.next())
        let criterion: Criterion = targeted ? .nextClassTargets(y, classes: classes) : .misclassification(labels: y)
        let cleanPredictions = withoutGradients { model.logits(x).argmax(alongAxis: 1) }
        health.record(domain.gate(attackGradient(x, criterion: criterion, model: model)))
        let xAdv = attack.perturb(x, criterion: criterion, within: domain, model: model, using: &rng)
        let fooled = criterion.isAdversarial(logits: withoutGradients { model.logits(xAdv) })
        let delta = withoutGradients { xAdv - x }
        let sizes = attack.norm.sizes(delta)
        for i in y.indices {
          norms.append(cleanPredictions[i] == y[i] ? (fooled[i] ? sizes[i] : nil) : 0)
        }
        audit.record(delta: delta, adversarial: xAdv)
        onBatch(x, xAdv, y)
        done += y.count
        progress(done, data.count)
      }
    }
    return MinimalAttackResult(attack: attack.name, norm: attack.norm, targeted: targeted, maskFraction: audit.maskFraction,
                               norms: norms, epsilons: epsilons, maxOffMaskChange: audit.maxOffMaskChange,
                               withinBounds: audit.withinBounds, seconds: (ContinuousClock.now - started).seconds,
                               gradientHealth: health)
  }

  /// The median of sorted values (the mean of the middle two for an even count).
  static func median(_ sorted: [Double]) -> Double? {
    guard !sorted.isEmpty else { return nil }
    let m = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2
  }
}

extension MinimalAttackResult {
  /// The result of per-example `norms` (data order; 0 for an example misclassified when clean,
  /// `nil` where the attack failed): clean accuracy, success rate, median and mean size over
  /// the fooled examples, and the curve at `epsilons` (`nil`: 0 to the largest size).
  /// - Parameter seconds: the attack's wall-clock time over all examples.
  public init(attack: String, norm: PerturbationNorm, targeted: Bool, maskFraction: Double, norms: [Double?], epsilons: [Double]?,
              maxOffMaskChange: Double, withinBounds: Bool, seconds: Double, gradientHealth: GradientHealth) {
    // A correctly classified example is never fooled by a zero perturbation, so size 0 marks the misclassified ones.
    let correct = norms.map { $0 != 0 }
    let successes = zip(norms, correct).compactMap { size, isCorrect in isCorrect ? size : nil }.sorted()
    let attempted = correct.filter { $0 }.count
    let count = norms.count
    let grid = epsilons ?? Self.grid(norms: norms, norm: norm)
    self.init(attack: attack, norm: norm.rawValue, targeted: targeted, maskFraction: maskFraction, count: count,
              cleanAccuracy: Double(attempted) / Double(Swift.max(count, 1)),
              successRate: Double(successes.count) / Double(Swift.max(attempted, 1)),
              medianNorm: MinimalAttackRunner.median(successes),
              meanNorm: successes.isEmpty ? nil : successes.reduce(0, +) / Double(successes.count),
              norms: norms, curve: grid.map { .init(epsilon: $0, accuracy: Self.accuracy(norms: norms, clean: correct, at: $0)) },
              maxOffMaskChange: maxOffMaskChange, withinBounds: withinBounds, secondsPerImage: seconds / Double(Swift.max(count, 1)),
              gradientHealth: gradientHealth)
  }

  /// The result of consecutive parts of one data set attacked alike, as one run over all of it
  /// (its curve spans the sizes of every part); the time per image is the parts' mean.
  /// - Returns: `nil` when the parts are of different attacks, norms, targeting or masks.
  public static func merging(_ parts: [MinimalAttackResult], epsilons: [Double]? = nil) -> MinimalAttackResult? {
    guard let first = parts.first, let norm = PerturbationNorm(rawValue: first.norm),
          parts.allSatisfy({ $0.attack == first.attack && $0.norm == first.norm && $0.targeted == first.targeted
                             && $0.maskFraction == first.maskFraction && $0.norms.count == $0.count }) else { return nil }
    var health = GradientHealth()
    for p in parts {
      health.examples += p.gradientHealth.examples; health.zero += p.gradientHealth.zero; health.nonFinite += p.gradientHealth.nonFinite
    }
    return MinimalAttackResult(attack: first.attack, norm: norm, targeted: first.targeted, maskFraction: first.maskFraction,
                               norms: parts.flatMap(\.norms), epsilons: epsilons,
                               maxOffMaskChange: parts.map(\.maxOffMaskChange).max() ?? 0,
                               withinBounds: parts.allSatisfy(\.withinBounds),
                               seconds: parts.reduce(0) { $0 + $1.secondsPerImage * Double($1.count) }, gradientHealth: health)
  }
}
