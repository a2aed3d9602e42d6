import PixelData
import PixelNN

/// Everything that determines a training run; stored in each checkpoint's metadata so that a
/// run can be resumed and reported.
public struct TrainingSettings: Codable, Equatable, Sendable {
  public enum OptimizerKind: String, Codable, Sendable, CaseIterable { case sgd, adam, adamw }
  public enum ScheduleKind: String, Codable, Sendable, CaseIterable { case constant, step, cosine }

  public var data: String
  public var epochs: Int
  public var batchSize: Int
  public var optimizer: OptimizerKind
  public var learningRate: Float
  public var momentum: Float
  public var nesterov: Bool
  public var weightDecay: Float
  public var schedule: ScheduleKind
  /// For `step`: epochs between decays, and the factor.
  public var stepEpochs: Int
  public var gamma: Float
  public var warmupEpochs: Int
  public var gradientClipNorm: Float?
  public var labelSmoothing: Float
  public var cropPadding: Int
  public var horizontalFlip: Bool
  public var seed: UInt64
  public var limit: Int?
  /// The objective; absent means plain cross-entropy (with `labelSmoothing`), so settings of
  /// runs from before objectives were recorded read back unchanged.
  public var objective: ObjectiveSettings?

  /// Settings with PyTorch-like defaults (Adam 1e-3, batch 128, 10 epochs, constant rate).
  public init(data: String, epochs: Int = 10, batchSize: Int = 128, optimizer: OptimizerKind = .adam,
              learningRate: Float = 1e-3, momentum: Float = 0.9, nesterov: Bool = false, weightDecay: Float = 0,
              schedule: ScheduleKind = .constant, stepEpochs: Int = 30, gamma: Float = 0.1, warmupEpochs: Int = 0,
              gradientClipNorm: Float? = nil, labelSmoothing: Float = 0, cropPadding: Int = 0,
              horizontalFlip: Bool = false, seed: UInt64 = 0, limit: Int? = nil) {
    self.data = data; self.epochs = epochs; self.batchSize = batchSize; self.optimizer = optimizer
    self.learningRate = learningRate; self.momentum = momentum; self.nesterov = nesterov
    self.weightDecay = weightDecay; self.schedule = schedule; self.stepEpochs = stepEpochs; self.gamma = gamma
    self.warmupEpochs = warmupEpochs; self.gradientClipNorm = gradientClipNorm; self.labelSmoothing = labelSmoothing
    self.cropPadding = cropPadding; self.horizontalFlip = horizontalFlip; self.seed = seed; self.limit = limit
  }

  /// Checks value ranges (NaN and ±∞ are out of every range); returns the first problem.
  public func validationError() -> String? {
    if epochs < 1 { return "epochs must be at least 1" }
    if batchSize < 1 { return "batch size must be at least 1" }
    if !(learningRate > 0 && learningRate.isFinite) { return "learning rate must be positive and finite, got \(learningRate)" }
    if !(momentum >= 0 && momentum.isFinite) { return "momentum must be finite and non-negative, got \(momentum)" }
    if !(weightDecay >= 0 && weightDecay.isFinite) { return "weight decay must be finite and non-negative, got \(weightDecay)" }
    if nesterov && (optimizer != .sgd || momentum == 0) { return "Nesterov momentum needs --optimizer sgd and momentum > 0" }
    if let c = gradientClipNorm, !(c > 0 && c.isFinite) { return "gradient clip norm must be positive and finite" }
    if !(labelSmoothing >= 0 && labelSmoothing < 1) { return "label smoothing must be in [0, 1)" }
    if cropPadding < 0 || cropPadding > 1 << 16 { return "crop padding must be in 0...65536" }
    if stepEpochs < 1 { return "step epochs must be at least 1" }
    if !(gamma > 0 && gamma.isFinite) { return "the step decay factor gamma must be positive and finite, got \(gamma)" }
    if warmupEpochs < 0 || warmupEpochs >= epochs && warmupEpochs > 0 { return "warm-up must be shorter than training" }
    if let limit, limit < 1 { return "limit must be at least 1" }
    if let problem = objective?.problem { return problem }
    return nil
  }

  /// A fresh optimizer as configured.
  public func makeOptimizer() -> any Optimizer {
    switch optimizer {
    case .sgd: return SGD(learningRate: learningRate, momentum: momentum, nesterov: nesterov, weightDecay: weightDecay)
    case .adam: return Adam(learningRate: learningRate, weightDecay: weightDecay)
    case .adamw: return Adam(learningRate: learningRate, weightDecay: weightDecay, decoupledWeightDecay: true)
    }
  }

  /// The learning-rate schedule, in iterations for `batchesPerEpoch`.
  public func makeSchedule(batchesPerEpoch: Int) -> LearningRateSchedule {
    let warmup = warmupEpochs * batchesPerEpoch
    switch schedule {
    case .constant: return LearningRateSchedule(.constant, warmupIterations: warmup)
    case .step: return LearningRateSchedule(.step(every: stepEpochs * batchesPerEpoch, gamma: gamma), warmupIterations: warmup)
    case .cosine: return LearningRateSchedule(.cosine(minimum: 0), warmupIterations: warmup)
    }
  }

  /// The augmentation applied to training batches.
  public var augmentation: Augmentation { Augmentation(cropPadding: cropPadding, horizontalFlip: horizontalFlip) }

  /// Stable JSON (sorted keys) for checkpoint metadata.
  public func jsonString() -> String { stableJSON(self) }
}
