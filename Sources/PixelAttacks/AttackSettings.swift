/// One evaluation's attack configuration, as `pixelrobust attack`, `masked-sweep` and the
/// defense evaluation take it: which bounded attack, the threat norm, the budgets, the PGD
/// schedule(s), EOT and repeated classification for randomized models, batching and the seed.
///
/// `steps` holds one entry per PGD variant to run (`[10, 20]` runs PGD-10 and PGD-20 at every
/// ε); FGSM ignores it.
public struct AttackSettings: Sendable, Equatable {
  /// The bounded attacks this configuration can name.
  public enum Method: String, CaseIterable, Sendable {
    /// One signed-gradient step (TGSM when targeted).
    case fgsm
    /// Projected gradient descent.
    case pgd
  }

  /// Which attack.
  public var method: Method
  /// The threat norm.
  public var norm: Norm
  /// Budgets in pixel units; L∞ budgets lie in `[0, 1]`.
  public var epsilons: [Float]
  /// PGD step counts, one attack each.
  public var steps: [Int]
  /// PGD's step size policy.
  public var stepSize: PGD.StepSize
  /// Whether PGD starts at a random point of the ball.
  public var randomStart: Bool
  /// PGD restarts per example.
  public var restarts: Int
  /// Targets `(y + 1) mod K` instead of any misclassification.
  public var targeted: Bool
  /// Forward/backward passes averaged per gradient (EOT).
  public var eotSamples: Int
  /// Classifications per adversarial example; robust accuracy keeps the worst.
  public var classifications: Int
  /// Images per batch.
  public var batchSize: Int
  /// Seeds random starts (and the draws of randomized models).
  public var seed: UInt64

  /// A configuration; checks nothing (``validated()`` does).
  public init(method: Method = .pgd, norm: Norm = .lInfinity, epsilons: [Float] = [0.1], steps: [Int] = [20],
              stepSize: PGD.StepSize = .absolute(0.01), randomStart: Bool = false, restarts: Int = 1,
              targeted: Bool = false, eotSamples: Int = 1, classifications: Int = 1, batchSize: Int = 256,
              seed: UInt64 = 0) {
    self.method = method; self.norm = norm; self.epsilons = epsilons; self.steps = steps; self.stepSize = stepSize
    self.randomStart = randomStart; self.restarts = restarts; self.targeted = targeted; self.eotSamples = eotSamples
    self.classifications = classifications; self.batchSize = batchSize; self.seed = seed
  }

  /// The first problem with these values, in words, or `nil`.
  public var problem: String? {
    if epsilons.isEmpty { return "give at least one ε" }
    for e in epsilons {
      guard e.isFinite, e >= 0 else { return AttackError.invalidEpsilon(e).description }
      if norm == .lInfinity && e > 1 { return "an L∞ budget above 1 allows every image in [0, 1]; got ε = \(e)" }
    }
    if steps.isEmpty || steps.contains(where: { $0 < 1 }) { return "PGD steps must be at least 1" }
    switch stepSize {
    case .absolute(let a), .relative(let a):
      if !(a.isFinite && a > 0) { return "the PGD step size must be positive and finite" }
    }
    if restarts < 1 { return "restarts must be at least 1" }
    if eotSamples < 1 { return "EOT samples must be at least 1" }
    if classifications < 1 { return "classifications must be at least 1" }
    if batchSize < 1 { return "the batch size must be at least 1" }
    return nil
  }

  /// The attacks to run: FGSM, or one PGD per entry of `steps`.
  /// - Throws: ``AttackError`` when ``problem`` finds one.
  public func attacks() throws -> [any BoundedAttack] {
    if let problem { throw AttackError.invalidStep(problem) }
    switch method {
    case .fgsm: return [FGSM(eotSamples: eotSamples)]
    case .pgd:
      return try steps.map {
        try PGD(steps: $0, step: stepSize, randomStart: randomStart, restarts: restarts, eotSamples: eotSamples)
      }
    }
  }

  /// The runner for these settings.
  public var runner: AttackRunner { AttackRunner(batchSize: batchSize, seed: seed, classifications: classifications) }

  /// The same attack without EOT and classified once: how an undefended baseline is attacked.
  public var deterministic: AttackSettings {
    var s = self
    s.eotSamples = 1
    s.classifications = 1
    return s
  }
}
