import ArgumentParser
import PixelTraining

/// Epochs, batch, optimizer, data limit and seed, shared by `train` and the PRM commands.
struct TrainingOptions: ParsableArguments {
  @Option(help: "Training epochs.")
  var epochs = 10
  @Option(help: "Mini-batch size.")
  var batchSize = 128
  @Option(help: "Optimizer: sgd, adam or adamw.")
  var optimizer: String = "adam"
  @Option(help: "Learning rate.")
  var lr: Float = 1e-3
  @Option(help: "Weight decay (L2 for sgd/adam, decoupled for adamw).")
  var weightDecay: Float = 0
  @Option(help: "Keep only the first N training examples.")
  var limit: Int?
  @Option(help: "Seed for initialisation, shuffling, dropout and augmentation.")
  var seed: UInt64 = 0

  func validate() throws {
    guard TrainingSettings.OptimizerKind(rawValue: optimizer) != nil else { throw ValidationError("--optimizer must be sgd, adam or adamw.") }
    if let problem = settings(data: "").validationError() { throw ValidationError(problem + ".") }
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
  }

  func settings(data: String) -> TrainingSettings {
    TrainingSettings(data: data, epochs: epochs, batchSize: batchSize,
                     optimizer: TrainingSettings.OptimizerKind(rawValue: optimizer) ?? .adam, learningRate: lr,
                     weightDecay: weightDecay, seed: seed, limit: limit)
  }
}
