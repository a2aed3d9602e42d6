/// Which objective a run trains with and its hyperparameters: part of ``TrainingSettings`` (so
/// checkpoints record it and `--resume` refuses a different one). PixelDefenses turns it into
/// the objective (`makeObjective`).
public struct ObjectiveSettings: Codable, Equatable, Sendable {
  /// The objectives `pixelrobust train --objective` offers.
  public enum Kind: String, Codable, Sendable, CaseIterable {
    case standard
    case gradientRegularization = "gradient-regularization"
    case insensitivity
    case fgsmAdversarial = "fgsm-adversarial"
    case pgdAdversarial = "pgd-adversarial"
    case trades
    case distillation
    case gaussianAugmentation = "gaussian-augmentation"
    case pni
  }

  /// JSON `kind`.
  public var kind: Kind
  /// JSON `lambda`, `lambdaConvention`: the gradient penalty's weight and its convention
  /// (`per-example` or `authors`).
  public var lambda: Float?
  public var lambdaConvention: String?
  /// JSON `epsilon`, `steps`, `stepSize`: the adversarial examples' L∞ budget, PGD steps and step.
  public var epsilon: Float?
  public var steps: Int?
  public var stepSize: Float?
  /// JSON `adversarialWeight`: `w` of PGD adversarial training, or of the adversarial mix of the
  /// noise objectives (gaussian-augmentation, pni; default ½ there, as Nemcovsky et al.).
  public var adversarialWeight: Float?
  /// JSON `beta`: TRADES' β.
  public var beta: Float?
  /// JSON `temperature`: of distillation (student and teacher) or of a teacher's training.
  public var temperature: Float?
  /// JSON `teacher`: the teacher checkpoint of distillation, as given.
  public var teacher: String?
  /// JSON `noiseSigma`: σ of Gaussian augmentation (pni: of extra input noise, default 0).
  public var noiseSigma: Float?
  /// JSON `pniTarget`, `pniAlpha`: where parametric noise goes (`weight` or `activation`) and its
  /// scale's initial value (default 0.25, He et al. 2019).
  public var pniTarget: String?
  public var pniAlpha: Float?

  /// Settings of `kind` with the fields it uses.
  public init(kind: Kind = .standard, lambda: Float? = nil, lambdaConvention: String? = nil, epsilon: Float? = nil,
              steps: Int? = nil, stepSize: Float? = nil, adversarialWeight: Float? = nil, beta: Float? = nil,
              temperature: Float? = nil, teacher: String? = nil, noiseSigma: Float? = nil, pniTarget: String? = nil,
              pniAlpha: Float? = nil) {
    self.kind = kind; self.lambda = lambda; self.lambdaConvention = lambdaConvention; self.epsilon = epsilon
    self.steps = steps; self.stepSize = stepSize; self.adversarialWeight = adversarialWeight; self.beta = beta
    self.temperature = temperature; self.teacher = teacher; self.noiseSigma = noiseSigma
    self.pniTarget = pniTarget; self.pniAlpha = pniAlpha
  }

  /// The first problem with these values for `kind`, in words, or `nil`.
  public var problem: String? {
    func finite(_ v: Float?, _ name: String, _ range: ClosedRange<Float>) -> String? {
      guard let v else { return nil }
      return v.isFinite && range.contains(v) ? nil : "\(name) must be in \(range.lowerBound)…\(range.upperBound), got \(v)"
    }
    let checks = [finite(lambda, "λ", 0...1e12), finite(epsilon, "ε", 0...1), finite(stepSize, "the step size", 1e-8...1),
                  finite(adversarialWeight, "the adversarial weight", 0...1), finite(beta, "β", 0...1e6),
                  finite(temperature, "the temperature", 1e-3...1e4), finite(noiseSigma, "σ", 0...100),
                  finite(pniAlpha, "the PNI scale α", 0...100)]
    if let problem = checks.compactMap({ $0 }).first { return problem }
    if let steps, !(1...10_000).contains(steps) { return "steps must be in 1…10000" }
    if let c = lambdaConvention, !["per-example", "authors"].contains(c) { return "the λ convention is per-example or authors" }
    switch kind {
    case .gradientRegularization, .insensitivity: if lambda == nil { return "\(kind.rawValue) needs λ" }
    case .fgsmAdversarial, .pgdAdversarial, .trades: if epsilon == nil { return "\(kind.rawValue) needs ε" }
    case .distillation: if teacher == nil || temperature == nil { return "distillation needs a teacher and a temperature" }
    case .gaussianAugmentation: if noiseSigma == nil { return "gaussian-augmentation needs σ" }
    case .pni:
      if let t = pniTarget, !["weight", "activation"].contains(t) { return "the PNI target is weight or activation, got \(t)" }
    case .standard: break
    }
    if kind == .gaussianAugmentation || kind == .pni, adversarialWeight != nil, epsilon == nil {
      return "the adversarial mix of \(kind.rawValue) needs ε"
    }
    return nil
  }
}
