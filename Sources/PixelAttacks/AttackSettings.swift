/// One evaluation's attack configuration, as `pixelrobust attack`, `masked-sweep` and the
/// defense evaluation take it: which attack, the threat norm, the budgets, the iterative
/// schedule(s), the attack's own parameters, EOT and repeated classification for randomized
/// models, batching and the seed.
///
/// `steps` holds one entry per PGD or APGD variant to run (`[10, 20]` runs PGD-10 and PGD-20 at
/// every ε); the other attacks take their step counts from ``parameters``.
public struct AttackSettings: Sendable, Equatable {
  /// The attacks this configuration can name.
  public enum Method: String, CaseIterable, Sendable {
    /// One signed-gradient step (TGSM when targeted).
    case fgsm
    /// Projected gradient descent.
    case pgd
    /// Auto-PGD on cross-entropy.
    case apgdCE = "apgd-ce"
    /// Auto-PGD on the difference of logits ratio.
    case apgdDLR = "apgd-dlr"
    /// The score-based Square attack (no gradients).
    case square
    /// Differential evolution over a few pixels (no gradients); L∞ only.
    case onePixel = "onepixel"
    /// DeepFool, a minimal attack in L2 or L∞.
    case deepFool = "deepfool"
    /// Carlini–Wagner L2, a minimal attack.
    case carliniWagner = "cw"
    /// The Jacobian saliency map attack, a minimal attack in L0.
    case jsma

    /// Whether the attack searches for the smallest perturbation instead of working inside an ε-ball.
    public var isMinimal: Bool { [.deepFool, .carliniWagner, .jsma].contains(self) }

    /// Whether the attack reads gradients (the white-box side of the masking check).
    public var usesGradients: Bool { ![.square, .onePixel].contains(self) }

    /// The step count when none is given: PGD 20, APGD 100.
    public var defaultSteps: Int { self == .apgdCE || self == .apgdDLR ? 100 : 20 }
  }

  /// The parameters of the attacks that have their own (defaults are the papers' or the
  /// reference implementations').
  public struct Parameters: Sendable, Equatable {
    /// Square: queries per example and the initial window share.
    public var queries = 1000
    public var initialFraction = 0.8
    /// One-pixel: pixels changed, population and generations.
    public var pixels = 1
    public var population = 400
    public var iterations = 100
    /// DeepFool: steps, overshoot, where it applies, candidate classes (`nil`: all).
    public var deepFoolSteps = 50
    public var overshoot: Float = 0.02
    public var overshootMode = DeepFool.Overshoot.total
    public var candidates: Int?
    /// C&W: Adam steps and learning rate, κ, the first c, search rounds.
    public var carliniWagnerSteps = 100
    public var learningRate: Float = 0.01
    public var confidence: Float = 0
    public var initialConstant: Float = 1e-3
    public var searchSteps = 9
    /// JSMA: the change per feature and the largest share of features changed.
    public var theta: Float = 1
    public var gamma: Float = 0.1

    /// The defaults.
    public init() {}
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
  /// The attack-specific parameters.
  public var parameters = Parameters()
  /// Bounded attacks run as one AutoAttack-style ensemble (per example, the worst case); empty: none.
  public var ensemble: [Method] = []

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
    if method == .onePixel && norm != .lInfinity { return "the one-pixel attack bounds each changed value in L∞: use --norm linf" }
    if method == .carliniWagner && norm != .l2 { return "Carlini–Wagner is an L2 attack: use --norm l2" }
    if let m = ensemble.first(where: \.isMinimal) {
      return "an ensemble keeps the worst case inside an ε-ball: \(m.rawValue) is a minimal attack"
    }
    if ensemble.contains(.onePixel) && norm != .lInfinity { return "the one-pixel attack needs --norm linf" }
    do { _ = try attacks(); if method.isMinimal { _ = try minimalAttack() } } catch {
      return "\(error)"
    }
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

  /// The bounded attacks to run: the ensemble when one is set, else FGSM, Square, one-pixel, or
  /// one PGD/APGD per entry of `steps`; none for a minimal attack.
  /// - Throws: ``AttackError`` for invalid parameters.
  public func attacks() throws -> [any BoundedAttack] {
    if !ensemble.isEmpty {
      let members = try ensemble.flatMap { try bounded($0) }
      return [try AttackEnsemble(members)]
    }
    return try bounded(method)
  }

  func bounded(_ method: Method) throws -> [any BoundedAttack] {
    let p = parameters
    switch method {
    case .fgsm: return [FGSM(eotSamples: eotSamples)]
    case .pgd:
      return try steps.map {
        try PGD(steps: $0, step: stepSize, randomStart: randomStart, restarts: restarts, eotSamples: eotSamples)
      }
    case .apgdCE, .apgdDLR:
      return try steps.map {
        try APGD(loss: method == .apgdCE ? .crossEntropy : .dlr, steps: $0, restarts: restarts, eotSamples: eotSamples)
      }
    case .square: return [try SquareAttack(queries: p.queries, initialFraction: p.initialFraction)]
    case .onePixel:
      return [try OnePixel(pixels: p.pixels, population: p.population, iterations: p.iterations)]
    case .deepFool, .carliniWagner, .jsma: return []
    }
  }

  /// The minimal attack `method` names.
  /// - Throws: ``AttackError`` for invalid parameters or a bounded method.
  public func minimalAttack() throws -> any MinimalAttack {
    let p = parameters
    switch method {
    case .deepFool:
      return try DeepFool(norm: norm == .l2 ? .l2 : .lInfinity, steps: p.deepFoolSteps, overshoot: p.overshoot,
                          overshootMode: p.overshootMode, candidates: p.candidates)
    case .carliniWagner:
      return try CarliniWagner(steps: p.carliniWagnerSteps, learningRate: p.learningRate, confidence: p.confidence,
                               initialConstant: p.initialConstant, searchSteps: p.searchSteps)
    case .jsma: return try JSMA(theta: p.theta, gamma: p.gamma)
    default: throw AttackError.invalidStep("\(method.rawValue) is a bounded attack, not a minimal one")
    }
  }

  /// The runner for minimal attacks under these settings.
  public var minimalRunner: MinimalAttackRunner { MinimalAttackRunner(batchSize: batchSize, seed: seed) }

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
