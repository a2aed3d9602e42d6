import ArgumentParser
import PixelAttacks

/// Attack settings shared by `attack` and `masked-sweep`.
struct AttackOptions: ParsableArguments {
  @Option(help: "Attack: fgsm or pgd (with --targeted: TGSM / targeted PGD towards (y + 1) mod K).")
  var attack: AttackChoice = .pgd
  @Option(help: "Threat norm: linf or l2.")
  var norm: NormChoice = .linf
  @Option(help: "Budget(s) ε in [0, 1] pixel units, comma-separated for a sweep, e.g. 0,0.05,0.1.")
  var epsilon: String = "0.1"
  @Option(help: "PGD steps.")
  var steps = 20
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
  @Option(help: "Batch size.")
  var batchSize = 256
  @Option(help: "Seed for random starts and random masks.")
  var seed: UInt64 = 0

  var epsilons: [Float] { epsilon.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) } }

  func validate() throws {
    let parts = epsilon.split(separator: ",")
    guard !parts.isEmpty, epsilons.count == parts.count else { throw ValidationError("--epsilon must be numbers, e.g. 0.1 or 0,0.05,0.1.") }
    for e in epsilons where !(e >= 0 && e.isFinite) { throw ValidationError(AttackError.invalidEpsilon(e).description + ".") }
    guard steps >= 1 else { throw ValidationError("--steps must be at least 1.") }
    guard stepSize > 0 else { throw ValidationError("--step-size must be positive.") }
    guard restarts >= 1 else { throw ValidationError("--restarts must be at least 1.") }
    guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    guard eot >= 1, classify >= 1 else { throw ValidationError("--eot and --classify must be at least 1.") }
  }

  func makeAttack() throws -> any BoundedAttack {
    switch attack {
    case .fgsm: return FGSM(eotSamples: eot)
    case .pgd: return try PGD(steps: steps, stepSize: stepSize, randomStart: randomStart, restarts: restarts, eotSamples: eot)
    }
  }

  var runner: AttackRunner { AttackRunner(batchSize: batchSize, seed: seed, classifications: classify) }
}

enum AttackChoice: String, ExpressibleByArgument, CaseIterable { case fgsm, pgd }

enum NormChoice: String, ExpressibleByArgument, CaseIterable {
  case linf, l2
  var value: Norm { self == .linf ? .lInfinity : .l2 }
}
