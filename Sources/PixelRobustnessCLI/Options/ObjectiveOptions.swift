import ArgumentParser
import PixelTraining

/// `--objective` and its hyperparameters (Ross & Doshi-Velez's defenses, Madry's and TRADES'
/// adversarial training, noise training).
struct ObjectiveOptions: ParsableArguments {
  @Option(name: .customLong("objective"), help: "Training objective.")
  var kind: ObjectiveChoice = .standard
  @Option(help: "gradient-regularization / insensitivity: the weight λ of the input-gradient penalty (see --lambda-convention).")
  var lambda: Float?
  @Option(help: "How λ is meant: per-example (λ · mean_n ‖∇ₓCE_n‖², batch-size independent) or authors (λ · ½‖∇ₓ mean CE‖², Ross & Doshi-Velez's code: λ_per-example = λ_authors / 2N).")
  var lambdaConvention: LambdaConventionChoice = .perExample
  @Option(help: "Adversarial objectives: the L∞ budget ε of the training examples, in [0, 1].")
  var epsilon: Float?
  @Option(help: "pgd-adversarial / trades: PGD steps (default 7 / 10).")
  var steps: Int?
  @Option(help: "pgd-adversarial / trades: PGD step in pixel units (default ε/4).")
  var stepSize: Float?
  @Option(help: "pgd-adversarial: weight w of the adversarial term, (1 − w)·CE + w·CE_adv (default 1).")
  var adversarialWeight: Float?
  @Option(help: "trades: β of the KL term (default 6).")
  var beta: Float?
  @Option(help: "distillation (student and teacher) or standard (training a teacher): the temperature T.")
  var temperature: Float?
  @Option(help: "distillation: the teacher checkpoint, trained at --temperature.")
  var teacher: String?
  @Option(help: "gaussian-augmentation: σ of the input noise in pixel units.")
  var noiseSigma: Float?

  /// The settings to record, or `nil` for plain cross-entropy (so such runs stay as before).
  var settings: ObjectiveSettings? {
    if kind == .standard && temperature == nil { return nil }
    return ObjectiveSettings(kind: kind.value, lambda: lambda, lambdaConvention: lambda == nil ? nil : lambdaConvention.rawValue,
                             epsilon: epsilon, steps: steps, stepSize: stepSize, adversarialWeight: adversarialWeight,
                             beta: beta, temperature: temperature, teacher: teacher, noiseSigma: noiseSigma)
  }

  func validate() throws {
    if let problem = settings?.problem { throw ValidationError(problem + ".") }
  }
}

enum ObjectiveChoice: String, ExpressibleByArgument, CaseIterable {
  case standard, gradientRegularization = "gradient-regularization", insensitivity, fgsmAdversarial = "fgsm-adversarial"
  case pgdAdversarial = "pgd-adversarial", trades, distillation, gaussianAugmentation = "gaussian-augmentation"
  var value: ObjectiveSettings.Kind { ObjectiveSettings.Kind(rawValue: rawValue)! }
}

enum LambdaConventionChoice: String, ExpressibleByArgument, CaseIterable {
  case perExample = "per-example", authors
}
