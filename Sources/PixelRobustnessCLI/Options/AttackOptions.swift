import ArgumentParser
import PixelAttacks

/// Attack settings shared by `attack` and `masked-sweep`.
struct AttackOptions: ParsableArguments {
  @Option(help: "Attack: fgsm or pgd (with --targeted: TGSM / targeted PGD towards (y + 1) mod K).")
  var attack: AttackChoice = .pgd
  @Option(help: "Threat norm: linf or l2.")
  var norm: NormChoice = .linf
  @Option(help: "Budget(s) ε in pixel units, comma-separated, e.g. 0,0.05,0.1 (L∞: in [0, 1]).")
  var epsilon = CommaList<Float>([0.1])
  @Option(help: "PGD steps, comma-separated to run several PGDs, e.g. 10,20.")
  var steps = CommaList<Int>([20])
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

  var epsilons: [Float] { epsilon.values }

  var settings: AttackSettings {
    AttackSettings(method: attack.value, norm: norm.value, epsilons: epsilon.values, steps: steps.values,
                   stepSize: .absolute(stepSize), randomStart: randomStart, restarts: restarts, targeted: targeted,
                   eotSamples: eot, classifications: classify, batchSize: batchSize, seed: seed)
  }

  func validate() throws {
    if let problem = settings.problem { throw ValidationError(problem + ".") }
  }
}

enum AttackChoice: String, ExpressibleByArgument, CaseIterable {
  case fgsm, pgd
  var value: AttackSettings.Method { AttackSettings.Method(rawValue: rawValue)! }
}

enum NormChoice: String, ExpressibleByArgument, CaseIterable {
  case linf, l2
  var value: Norm { self == .linf ? .lInfinity : .l2 }
}
