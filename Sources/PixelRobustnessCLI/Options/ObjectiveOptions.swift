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
  @Option(help: "Adversarial objectives, and the adversarial mix of gaussian-augmentation / pni: the L∞ budget ε of the training examples, in [0, 1].")
  var epsilon: Float?
  @Option(help: "pgd-adversarial, trades, the adversarial mix: PGD steps (default 7, trades 10).")
  var steps: Int?
  @Option(help: "pgd-adversarial / trades: PGD step in pixel units (default ε/4).")
  var stepSize: Float?
  @Option(help: "pgd-adversarial and the adversarial mix of gaussian-augmentation / pni: weight w of the adversarial term, (1 − w)·CE + w·CE_adv (default 1; 0.5 for the mix).")
  var adversarialWeight: Float?
  @Option(help: "trades: β of the KL term (default 6).")
  var beta: Float?
  @Option(help: "distillation (student and teacher) or standard (training a teacher): the temperature T.")
  var temperature: Float?
  @Option(help: "distillation: the teacher checkpoint, trained at --temperature.")
  var teacher: String?
  @Option(help: "gaussian-augmentation: σ of the input noise in pixel units (pni: extra input noise, default 0).")
  var noiseSigma: Float?
  @Option(help: "pni: noise on each conv/linear layer's weights or outputs (He et al. 2019).")
  var pniTarget: PNITargetChoice = .weight
  @Option(help: "pni: initial noise scale α, relative to each tensor's standard deviation (default 0.25).")
  var pniAlpha: Float?

  /// The settings to record, or `nil` for plain cross-entropy (so such runs stay as before).
  var settings: ObjectiveSettings? {
    if kind == .standard && temperature == nil { return nil }
    return ObjectiveSettings(kind: kind.value, lambda: lambda, lambdaConvention: lambda == nil ? nil : lambdaConvention.rawValue,
                             epsilon: epsilon, steps: steps, stepSize: stepSize, adversarialWeight: adversarialWeight,
                             beta: beta, temperature: temperature, teacher: teacher, noiseSigma: noiseSigma,
                             pniTarget: kind == .pni ? pniTarget.rawValue : nil, pniAlpha: kind == .pni ? pniAlpha ?? 0.25 : nil)
  }

  func validate() throws {
    if let problem = settings?.problem { throw ValidationError(problem + ".") }
  }
}

enum ObjectiveChoice: String, ExpressibleByArgument, CaseIterable {
  case standard, gradientRegularization = "gradient-regularization", insensitivity, fgsmAdversarial = "fgsm-adversarial"
  case pgdAdversarial = "pgd-adversarial", trades, distillation, gaussianAugmentation = "gaussian-augmentation", pni
  var value: ObjectiveSettings.Kind { ObjectiveSettings.Kind(rawValue: rawValue)! }
}

enum LambdaConventionChoice: String, ExpressibleByArgument, CaseIterable {
  case perExample = "per-example", authors
}

enum PNITargetChoice: String, ExpressibleByArgument, CaseIterable {
  case weight, activation
}
