import ArgumentParser
import PixelAttacks

/// Attack settings shared by `attack` and `masked-sweep`.
struct AttackOptions: ParsableArguments {
  @Option(help: "Attack: fgsm, pgd, apgd-ce, apgd-dlr, square, onepixel (bounded by ε) or deepfool, cw, jsma (minimal: no ε, a size per example). With --targeted: towards (y + 1) mod K.")
  var attack: AttackChoice = .pgd
  @Option(help: "Run these bounded attacks as one worst-case ensemble (AutoAttack style), comma-separated, e.g. apgd-ce,apgd-dlr,square.")
  var ensemble = CommaList<AttackChoice>([])
  @Option(help: "Threat norm: linf or l2.")
  var norm: NormChoice = .linf
  @Option(help: "Budget(s) ε in pixel units, comma-separated, e.g. 0,0.05,0.1 (L∞: in [0, 1]).")
  var epsilon = CommaList<Float>([0.1])
  @Option(help: "PGD/APGD steps, comma-separated to run several, e.g. 10,20 (default: PGD 20, APGD 100; DeepFool and C&W: their step count).")
  var steps: CommaList<Int>?
  @Option(help: "PGD step size in pixel units.")
  var stepSize: Float = 0.01
  @Flag(help: "Start PGD at a uniformly random point of the threat set.")
  var randomStart = false
  @Option(help: "PGD restarts (an example keeps the first restart that fools the model).")
  var restarts = 1
  @Flag(help: "Targeted attack towards class (y + 1) mod K.")
  var targeted = false
  @Option(help: "EOT: average each gradient over N forward/backward passes (for randomized models).")
  var eot = 1
  @Option(help: "Classify each example R times; robust accuracy keeps the worst case (for randomized models).")
  var classify = 1
  @Option(help: ArgumentHelp(SharedHelp.batchSize))
  var batchSize = 256
  @Option(help: "Seed for random starts, random masks and the draws of randomized models.")
  var seed: UInt64 = 0
  @Option(help: "Square: model queries per example.")
  var queries = 1000
  @Option(help: "One-pixel: pixels changed per image.")
  var pixels = 1
  @Option(help: "One-pixel: differential-evolution population per image.")
  var population = 400
  @Option(help: "One-pixel: generations.")
  var iterations = 100
  @Option(help: "DeepFool: overshoot factor.")
  var overshoot: Float = 0.02
  @Flag(help: "DeepFool: apply the overshoot to every step (torchattacks) instead of the total (the paper, Foolbox).")
  var overshootEachStep = false
  @Option(help: "DeepFool: linearise towards the K largest other logits only (default: all classes).")
  var candidates: Int?
  @Option(help: "C&W: confidence margin κ.")
  var confidence: Float = 0
  @Option(help: "C&W: Adam learning rate.")
  var learningRate: Float = 0.01
  @Option(help: "C&W: the first constant c of the binary search.")
  var initialConst: Float = 1e-3
  @Option(help: "C&W: binary-search rounds over c (1: no search).")
  var searchSteps = 9
  @Option(help: "JSMA: change added to each chosen pixel (negative decreases).")
  var theta: Float = 1
  @Option(help: "JSMA: largest share of pixels changed, in (0, 1].")
  var gamma: Float = 0.1

  var epsilons: [Float] { epsilon.values }

  var settings: AttackSettings {
    let iterative = ensemble.values.first { $0 == .apgdCE || $0 == .apgdDLR } ?? attack
    var s = AttackSettings(method: attack.value, norm: norm.value, epsilons: epsilon.values,
                           steps: steps?.values ?? [iterative.value.defaultSteps], stepSize: .absolute(stepSize),
                           randomStart: randomStart, restarts: restarts, targeted: targeted, eotSamples: eot,
                           classifications: classify, batchSize: batchSize, seed: seed)
    s.ensemble = ensemble.values.map(\.value)
    var p = AttackSettings.Parameters()
    p.queries = queries; p.pixels = pixels; p.population = population; p.iterations = iterations
    p.overshoot = overshoot; p.overshootMode = overshootEachStep ? .eachStep : .total; p.candidates = candidates
    p.confidence = confidence; p.learningRate = learningRate; p.initialConstant = initialConst; p.searchSteps = searchSteps
    p.theta = theta; p.gamma = gamma
    if let first = steps?.values.first { p.deepFoolSteps = first; p.carliniWagnerSteps = first }
    s.parameters = p
    return s
  }

  func validate() throws {
    if let problem = settings.problem { throw ValidationError(problem + ".") }
  }

  /// Rejects minimal attacks (they have no ε-ball) for commands that sweep budgets.
  func requireBounded(_ command: String) throws {
    if attack.value.isMinimal && ensemble.values.isEmpty {
      throw ValidationError("\(command) runs bounded attacks; \(attack.rawValue) is a minimal attack (use pixelrobust attack).")
    }
  }

  /// Rejects minimal attacks, ensembles and several step counts.
  func requireOneBoundedAttack(_ command: String) throws {
    try requireBounded(command)
    guard ensemble.values.isEmpty, settings.steps.count == 1 || ![.pgd, .apgdCE, .apgdDLR].contains(attack) else {
      throw ValidationError("\(command) runs one attack: give one --steps value and no --ensemble.")
    }
  }
}

enum AttackChoice: String, ExpressibleByArgument, CaseIterable, CustomStringConvertible {
  case fgsm, pgd
  case apgdCE = "apgd-ce", apgdDLR = "apgd-dlr", square, onePixel = "onepixel"
  case deepFool = "deepfool", carliniWagner = "cw", jsma
  var value: AttackSettings.Method { AttackSettings.Method(rawValue: rawValue)! }
  var description: String { rawValue }
}

enum NormChoice: String, ExpressibleByArgument, CaseIterable {
  case linf, l2
  var value: Norm { self == .linf ? .lInfinity : .l2 }
}
