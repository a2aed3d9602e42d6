import Foundation
import PixelNN
import PixelTensor

/// Auto-PGD (Croce & Hein, 2020, "Reliable evaluation of adversarial robustness with an ensemble
/// of diverse parameter-free attacks", https://arxiv.org/abs/2003.01690): PGD with momentum and a
/// step size that halves at checkpoints when progress stalls, on the cross-entropy or the
/// difference-of-logits-ratio (DLR) loss.
///
/// ```
/// z = Π(x_k + η·dir(∇L(x_k)))
/// x_{k+1} = Π(x_k + α(z − x_k) + (1 − α)(x_k − x_{k−1}))      α = 0.75 (1 at k = 0)
/// DLR(x, y) = −(z_y − max_{i≠y} z_i) / (z_π1 − z_π3)
/// targeted DLR(x, y, t) = −(z_y − z_t) / (z_π1 − (z_π3 + z_π4)/2)
/// ```
/// η starts at 2ε. Checkpoints follow the paper: the first after 22% of the iterations, each next
/// period 3% shorter, never below 6%. At a checkpoint an example halves η and restarts from its
/// best point when fewer than ρ = 75% of the steps since the last checkpoint increased its loss,
/// or when neither η nor the best loss changed since then. Every iterate is detached.
public struct APGD: BoundedAttack {
  /// The loss APGD ascends.
  public enum Loss: String, Sendable, CaseIterable {
    /// Cross-entropy (towards the target when targeted).
    case crossEntropy = "ce"
    /// The difference of logits ratio: scale-invariant, so it cannot be defeated by scaling the logits.
    case dlr
  }

  /// The loss.
  public var loss: Loss
  /// Iterations per restart.
  public var steps: Int
  /// Independent runs from random starts; an example keeps the first that fools the model.
  public var restarts: Int
  /// The momentum weight α (the paper's 0.75).
  public var momentum: Float
  /// The share ρ of loss-increasing steps below which the step size halves (0.75).
  public var rho: Float
  /// Forward/backward passes averaged per step (EOT) for randomized models.
  public var eotSamples: Int

  /// APGD with `steps` iterations on `loss`.
  /// - Throws: ``AttackError`` for non-positive steps, restarts or EOT samples, or a momentum or ρ outside [0, 1].
  public init(loss: Loss = .crossEntropy, steps: Int = 100, restarts: Int = 1, momentum: Float = 0.75, rho: Float = 0.75,
              eotSamples: Int = 1) throws {
    guard steps >= 1 else { throw AttackError.invalidStep("APGD needs at least one step") }
    guard restarts >= 1 else { throw AttackError.invalidStep("APGD needs at least one restart") }
    guard eotSamples >= 1 else { throw AttackError.invalidStep("EOT needs at least one sample") }
    guard (0...1).contains(momentum), (0...1).contains(rho) else {
      throw AttackError.invalidStep("APGD's momentum and ρ must lie in [0, 1]")
    }
    self.loss = loss; self.steps = steps; self.restarts = restarts; self.momentum = momentum; self.rho = rho
    self.eotSamples = eotSamples
  }

  public var name: String { (eotSamples > 1 ? "eot\(eotSamples)-" : "") + "apgd-\(loss.rawValue)-\(steps)" }

  /// The iterations after which the step size may halve: period 0.22·N first, each next 0.03·N
  /// shorter, at least 0.06·N (Croce & Hein's p_j schedule).
  public static func checkpoints(steps: Int) -> [Int] {
    let first = Swift.max(Int(0.22 * Double(steps)), 1), shortest = Swift.max(Int(0.06 * Double(steps)), 1)
    let decrease = Swift.max(Int(0.03 * Double(steps)), 1)
    var out: [Int] = [], period = first, at = first
    while at <= steps {
      out.append(at)
      period = Swift.max(period - decrease, shortest)
      at += period
    }
    return out
  }

  public func perturb(_ x: Tensor, criterion: Criterion, within threat: ThreatModel, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    var result = x
    var fooled = [Bool](repeating: false, count: x.shape[0])
    for _ in 0..<restarts {
      let (candidate, success) = run(x, criterion: criterion, threat: threat, model: model, using: &rng)
      let take = (0..<fooled.count).map { !fooled[$0] && (success[$0] || restarts == 1) }
      result = result.replacingRows(take, with: candidate)
      for i in fooled.indices where success[i] { fooled[i] = true }
      if fooled.allSatisfy({ $0 }) { break }
    }
    return result
  }

  /// One run from a random start: the first adversarial iterate of each example, or its
  /// highest-loss iterate, and whether it fooled the model.
  func run(_ x: Tensor, criterion: Criterion, threat: ThreatModel, model: any Classifier,
           using rng: inout SeededGenerator) -> (Tensor, [Bool]) {
    let n = x.shape[0], eps = threat.epsilon
    let start = randomStart(x, threat: threat, using: &rng)
    var current = start, previous = start
    var (losses, gradient, fooled) = evaluate(current, criterion: criterion, threat: threat, model: model)
    var best = current, bestLoss = losses, bestGradient = gradient
    var adversarial = current
    var step = [Float](repeating: 2 * eps, count: n)
    var history = [losses]  // history[i] is the loss at iterate i
    var lastCheckBest = bestLoss, reducedAtLastCheck = [Bool](repeating: false, count: n)
    var lastCheckpoint = 0
    let checkpoints = Set(Self.checkpoints(steps: steps))
    for k in 0..<steps {
      let a: Float = k == 0 ? 1 : momentum
      let z = threat.project(current + steepestDirection(gradient, norm: threat.norm).scaledPerExample(step), around: x)
      let next = threat.project(withoutGradients { current + (z - current) * a + (current - previous) * (1 - a) }, around: x)
      previous = current
      current = next
      let (l, g, f) = evaluate(current, criterion: criterion, threat: threat, model: model)
      losses = l; gradient = g
      let newlyFooled = (0..<n).map { f[$0] && !fooled[$0] }
      adversarial = adversarial.replacingRows(newlyFooled, with: current)
      for i in 0..<n where f[i] { fooled[i] = true }
      let improved = (0..<n).map { losses[$0] > bestLoss[$0] }
      best = best.replacingRows(improved, with: current)
      bestGradient = bestGradient.replacingRows(improved, with: gradient)
      for i in 0..<n where improved[i] { bestLoss[i] = losses[i] }
      history.append(losses)
      guard checkpoints.contains(k + 1) else { continue }
      let period = k + 1 - lastCheckpoint
      var halve = [Bool](repeating: false, count: n)
      for i in 0..<n {
        var increases = 0
        for j in (lastCheckpoint + 1)...(k + 1) where history[j][i] > history[j - 1][i] { increases += 1 }
        let oscillating = Float(increases) < rho * Float(period)
        let stalled = !reducedAtLastCheck[i] && lastCheckBest[i] >= bestLoss[i]
        halve[i] = oscillating || stalled
        if halve[i] { step[i] /= 2 }
      }
      reducedAtLastCheck = halve
      lastCheckBest = bestLoss
      lastCheckpoint = k + 1
      if halve.contains(true) {
        current = current.replacingRows(halve, with: best)
        gradient = gradient.replacingRows(halve, with: bestGradient)
      }
    }
    return (best.replacingRows(fooled, with: adversarial), fooled)
  }

  /// A uniformly random point on the ε-sphere's box (L∞: ε·t/‖t‖∞, t uniform in [−1, 1]) or
  /// sphere (L2: ε·t/‖t‖₂, t Gaussian), masked and projected, as the reference implementation starts.
  func randomStart(_ x: Tensor, threat: ThreatModel, using rng: inout SeededGenerator) -> Tensor {
    let t = threat.gate(threat.norm == .lInfinity ? Tensor.uniform(x.shape, in: -1...1, using: &rng) : Tensor.normal(x.shape, using: &rng))
    let norms = withoutGradients { threat.norm == .lInfinity ? t.abs().flattenedBatch().max(alongAxis: 1) : t.l2NormPerSample() }.scalars
    return threat.project(x + t.scaledPerExample(norms.map { threat.epsilon / Swift.max($0, 1e-12) }), around: x)
  }

  /// Per-example losses, their masked input gradient (averaged over EOT samples) and whether
  /// the model is fooled at `x`.
  func evaluate(_ x: Tensor, criterion: Criterion, threat: ThreatModel, model: any Classifier) -> ([Float], Tensor, [Bool]) {
    var total: Tensor?, losses = [Float](repeating: 0, count: x.shape[0]), fooled = [Bool](repeating: false, count: x.shape[0])
    for _ in 0..<eotSamples {
      let probe = LogitProbe(x, model: model)
      let (l, cotangent) = lossAndCotangent(probe, criterion: criterion)
      let g = probe.inputGradient(cotangent: cotangent)
      total = withoutGradients { total.map { $0 + g } ?? g }
      for i in losses.indices { losses[i] += l[i] / Float(eotSamples) }
      let predicted = probe.predictions
      for i in fooled.indices {
        fooled[i] = criterion.isTargeted ? predicted[i] == criterion.labels[i] : predicted[i] != criterion.labels[i]
      }
    }
    return (losses, threat.gate(withoutGradients { total! * (1 / Float(eotSamples)) }), fooled)
  }

  /// The per-example loss and its gradient with respect to the logits.
  func lossAndCotangent(_ probe: LogitProbe, criterion: Criterion) -> ([Float], [Float]) {
    let k = probe.classes
    var losses = [Float](repeating: 0, count: probe.count), c = [Float](repeating: 0, count: probe.logits.count)
    let y = criterion.trueLabels, targets = criterion.isTargeted ? criterion.labels : nil
    for n in 0..<probe.count {
      let z = probe.row(n), base = n * k
      switch loss {
      case .crossEntropy:
        let p = softmax(z)
        let label = targets?[n] ?? y[n]
        // Untargeted ascends CE(y); targeted ascends −CE(t).
        let sign: Float = targets == nil ? 1 : -1
        losses[n] = sign * Float(-Foundation.log(p[label]))
        for j in 0..<k { c[base + j] = sign * (Float(p[j]) - (j == label ? 1 : 0)) }
      case .dlr:
        let order = (0..<k).sorted { z[z.startIndex + $0] > z[z.startIndex + $1] }
        let third = order[Swift.min(2, k - 1)], fourth = order[Swift.min(3, k - 1)]
        let other: Int, scaleD: [(Int, Float)]
        if let t = targets?[n] {
          other = t
          scaleD = [(order[0], 1), (third, -0.5), (fourth, -0.5)]
        } else {
          other = largestOther(z, excluding: y[n]).index
          scaleD = [(order[0], 1), (third, -1)]
        }
        let d = scaleD.reduce(Float(0)) { $0 + $1.1 * z[z.startIndex + $1.0] } + 1e-12
        let margin = z[z.startIndex + y[n]] - z[z.startIndex + other]
        losses[n] = -margin / d
        c[base + y[n]] -= 1 / d
        c[base + other] += 1 / d
        for (j, w) in scaleD { c[base + j] += w * margin / (d * d) }
      }
    }
    return (losses, c)
  }
}
