import PixelNN
import PixelTensor

/// Projected gradient descent (Madry et al., 2018, https://arxiv.org/abs/1706.06083):
/// `x ← Π(x + α·dir(∇ₓ L))` for `steps` steps from an optional random start, with restarts.
///
/// Each iterate is detached, so the graph never grows across steps. With restarts, an example
/// keeps the first restart's result that fools the model (else the last restart's).
public struct PGD: BoundedAttack {
  /// How large each step is: fixed in pixel units, or a share of the threat model's ε.
  public enum StepSize: Sendable, Equatable {
    /// α in pixel units, whatever ε is.
    case absolute(Float)
    /// α = max(fraction · ε, 10⁻⁴): the same relative step at every ε of a sweep (ε/4 with
    /// 10 steps covers the ball 2.5 times, as Madry et al.'s 2.5·ε/steps rule does).
    case relative(Float)

    /// α for a budget of `epsilon`.
    public func value(epsilon: Float) -> Float {
      switch self {
      case .absolute(let a): return a
      case .relative(let f): return Swift.max(f * epsilon, 1e-4)
      }
    }
  }

  /// Iterations per restart.
  public var steps: Int
  /// The step size α.
  public var step: StepSize
  /// Whether each restart starts at a uniformly random point of the threat set.
  public var randomStart: Bool
  /// Independent runs; an example keeps the first that fools the model.
  public var restarts: Int
  /// Forward/backward passes averaged per step (EOT-PGD) for randomized models.
  public var eotSamples: Int

  /// PGD with `steps` steps of size `step`.
  /// - Throws: ``AttackError`` for non-positive steps, step size, restarts or EOT samples.
  public init(steps: Int = 20, step: StepSize, randomStart: Bool = false, restarts: Int = 1, eotSamples: Int = 1) throws {
    guard eotSamples >= 1 else { throw AttackError.invalidStep("EOT needs at least one sample") }
    guard steps >= 1 else { throw AttackError.invalidStep("PGD needs at least one step") }
    switch step {
    case .absolute(let a), .relative(let a):
      guard a.isFinite, a > 0 else { throw AttackError.invalidStep("PGD step size must be positive and finite") }
    }
    guard restarts >= 1 else { throw AttackError.invalidStep("PGD needs at least one restart") }
    self.eotSamples = eotSamples
    self.steps = steps
    self.step = step
    self.randomStart = randomStart
    self.restarts = restarts
  }

  /// PGD with `steps` steps of `stepSize` pixel units.
  /// - Throws: ``AttackError`` for non-positive steps, step size, restarts or EOT samples.
  public init(steps: Int = 20, stepSize: Float = 0.01, randomStart: Bool = false, restarts: Int = 1,
              eotSamples: Int = 1) throws {
    try self.init(steps: steps, step: .absolute(stepSize), randomStart: randomStart, restarts: restarts, eotSamples: eotSamples)
  }

  public var name: String { eotSamples > 1 ? "eot\(eotSamples)-pgd-\(steps)" : "pgd-\(steps)" }

  public func perturb(_ x: Tensor, criterion: Criterion, within threat: ThreatModel, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    let stepSize = step.value(epsilon: threat.epsilon)
    var best: Tensor?
    var done = [Bool](repeating: false, count: x.shape[0])
    for _ in 0..<restarts {
      var xAdv = randomStart ? threat.randomStart(around: x, using: &rng) : x
      for _ in 0..<steps {
        let g = attackGradient(xAdv, criterion: criterion, threat: threat, model: model, samples: eotSamples)
        xAdv = threat.project(xAdv + steepestDirection(g, norm: threat.norm) * stepSize, around: x)
      }
      guard restarts > 1 else { return xAdv }
      let fooled = criterion.isAdversarial(logits: withoutGradients { model.logits(xAdv) })
      // Examples a previous restart fooled keep that restart's result.
      best = best.map { xAdv.replacingRows(done, with: $0) } ?? xAdv
      for i in done.indices where fooled[i] { done[i] = true }
    }
    return best ?? x
  }
}
