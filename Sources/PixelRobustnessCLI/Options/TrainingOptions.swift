import ArgumentParser
import PixelTraining

/// Epochs, batch, optimizer, data limit and seed, shared by `train` and the PRM commands.
struct TrainingOptions: ParsableArguments {
  @Option(help: "Training epochs.")
  var epochs = 10
  @Option(help: ArgumentHelp(SharedHelp.batchSize))
  var batchSize = 128
  @Option(help: "Optimizer.")
  var optimizer: OptimizerChoice = .adam
  @Option(help: "Learning rate.")
  var lr: Float = 1e-3
  @Option(help: "Weight decay (L2 for sgd/adam, decoupled for adamw).")
  var weightDecay: Float = 0
  @Option(help: "Use only the first N examples of the training split (file order).")
  var limit: Int?
  @Option(help: "Seed for initialisation, shuffling, dropout and augmentation.")
  var seed: UInt64 = 0

  func validate() throws {
    try requireFinite([lr, weightDecay], "--lr and --weight-decay")
    if let problem = settings(data: "").validationError() { throw ValidationError(problem + ".") }
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
  }

  func settings(data: String) -> TrainingSettings {
    TrainingSettings(data: data, epochs: epochs, batchSize: batchSize, optimizer: optimizer.value, learningRate: lr,
                     weightDecay: weightDecay, seed: seed, limit: limit)
  }
}

enum OptimizerChoice: String, ExpressibleByArgument, CaseIterable {
  case sgd, adam, adamw
  var value: TrainingSettings.OptimizerKind { TrainingSettings.OptimizerKind(rawValue: rawValue)! }
}
