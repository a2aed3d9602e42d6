import PixelAttacks
import PixelNN
import PixelTraining

extension ObjectiveSettings {
  /// The objective these settings describe; `teacher` is the loaded teacher of distillation,
  /// `labelSmoothing` applies to plain cross-entropy.
  /// - Throws: ``AttackError`` for unusable PGD settings.
  /// - Precondition: ``problem`` is `nil`, and distillation has a teacher.
  public func makeObjective(teacher: Model? = nil, labelSmoothing: Float = 0) throws -> any TrainingObjective {
    precondition(problem == nil, problem ?? "")
    let eps = epsilon ?? 0
    switch kind {
    case .standard: return StandardTraining(labelSmoothing: labelSmoothing, temperature: temperature ?? 1)
    case .gradientRegularization, .insensitivity:
      return InputGradientRegularization(lambda: lambda!, convention: .init(rawValue: lambdaConvention ?? "per-example")!,
                                         insensitive: kind == .insensitivity)
    case .fgsmAdversarial: return AdversarialTraining.fgsm(epsilon: eps)
    case .pgdAdversarial:
      return try AdversarialTraining.pgd(epsilon: eps, steps: steps ?? 7, stepSize: stepSize.map { .absolute($0) } ?? .relative(0.25),
                                         weight: adversarialWeight ?? 1)
    case .trades: return TRADES(beta: beta ?? 6, epsilon: eps, steps: steps ?? 10, stepSize: stepSize ?? Swift.max(eps / 4, 1e-4))
    case .distillation: return Distillation(teacher: teacher!, temperature: temperature!)
    case .gaussianAugmentation, .pni:
      let adversary = try epsilon.map {
        try AdversarialTraining.pgd(epsilon: $0, steps: steps ?? 7, stepSize: stepSize.map { .absolute($0) } ?? .relative(0.25),
                                    weight: adversarialWeight ?? 0.5)
      }
      return GaussianAugmentation(sigma: noiseSigma ?? 0, adversary: adversary)
    }
  }

  /// The architecture this objective trains: `spec` with parametric noise injected for pni
  /// (``ParametricNoise/inject(into:target:alpha:)``), else `spec` itself.
  public func architecture(for spec: ModelSpec) throws -> ModelSpec {
    guard kind == .pni else { return spec }
    return try ParametricNoise.inject(into: spec, target: ParametricNoise.Target(rawValue: pniTarget ?? "weight") ?? .weight,
                                      alpha: pniAlpha ?? 0.25)
  }
}
