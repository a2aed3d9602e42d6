import Foundation
import PixelData
import PixelNN
import PixelTensor

/// A problem that stops a training job before it starts; names the file and the reason.
public enum TrainingJobError: Error, CustomStringConvertible {
  case cannotResume(path: String, reason: String)
  case invalidSettings(String)

  public var description: String {
    switch self {
    case let .cannotResume(p, r): return "\(p): cannot resume: \(r)"
    case let .invalidSettings(r): return "invalid training settings: \(r)"
    }
  }
}

/// A whole training run as `pixelrobust train` performs it: build (or resume) the model, train
/// epoch by epoch, evaluate on the test split, and after every epoch write the checkpoint,
/// the optimizer state (`<output>.state.safetensors`, for `--resume`) and a JSON-lines log
/// (`<output>.log.jsonl`) — each file atomically.
public struct TrainingJob {
  public var spec: ModelSpec
  public var settings: TrainingSettings
  public var output: URL
  public var objective: any TrainingObjective
  /// Extra checkpoint metadata (e.g. the objective's settings).
  public var metadata: [String: String]
  /// Only this top-level layer trains (see ``Trainer/trainableLayer``).
  public var trainableLayer: String?
  /// Initial weights for a fresh run (e.g. a pretrained classifier under a new PRM), by path.
  public var initialState: [String: Tensor]
  /// The layer kinds `spec` may use (also when resuming from the checkpoint).
  public var builder: ModelBuilder

  /// A job training `spec` under `objective` into `output`; without an objective, plain
  /// cross-entropy with `settings.labelSmoothing`.
  public init(spec: ModelSpec, settings: TrainingSettings, output: URL, objective: (any TrainingObjective)? = nil,
              metadata: [String: String] = [:], trainableLayer: String? = nil, initialState: [String: Tensor] = [:],
              builder: ModelBuilder = .standard) {
    self.spec = spec
    self.settings = settings
    self.output = output
    self.objective = objective ?? StandardTraining(labelSmoothing: settings.labelSmoothing)
    self.builder = builder
    self.metadata = metadata
    self.trainableLayer = trainableLayer
    self.initialState = initialState
  }

  /// The optimizer-state file beside the checkpoint.
  public var stateURL: URL { output.deletingPathExtension().appendingPathExtension("state.safetensors") }
  /// The JSON-lines log beside the checkpoint.
  public var logURL: URL { output.deletingPathExtension().appendingPathExtension("log.jsonl") }

  /// Metadata keys of a checkpoint written by a training job.
  public enum MetadataKey {
    public static let settings = "pixelrobust.training"
    public static let epoch = "pixelrobust.epoch"
    public static let seed = "pixelrobust.seed"
    public static let testAccuracy = "pixelrobust.test_accuracy"
  }

  /// Trains on `train`, evaluating on `test` after each epoch.
  /// - Parameters:
  ///   - resume: continue from the checkpoint and optimizer state at `output`.
  ///   - progress: called after every batch.
  ///   - epochEnd: called with each epoch's report after its checkpoint is written.
  /// - Returns: the trained model and every epoch's report (resumed epochs included from the log).
  @discardableResult
  public func run(train: Dataset, test: Dataset?, resume: Bool, progress: (BatchProgress) -> Void = { _ in },
                  epochEnd: (EpochReport) -> Void = { _ in }) throws -> (model: Model, reports: [EpochReport]) {
    if let problem = settings.validationError() { throw TrainingJobError.invalidSettings(problem) }
    try train.checkLabels(classes: spec.classes)
    try test?.checkLabels(classes: spec.classes)
    let model: Model
    var optimizer = settings.makeOptimizer()
    var firstEpoch = 1
    var reports: [EpochReport] = []
    if resume {
      (model, firstEpoch, reports) = try resumeState(into: &optimizer)
    } else {
      model = try Model(spec: spec, seed: settings.seed, builder: builder)
      if !initialState.isEmpty { try model.loadState(initialState, source: "initial weights", strict: false) }
      try? FileManager.default.removeItem(at: logURL)
    }
    let trainer = Trainer(model: model, optimizer: optimizer, objective: objective, settings: settings,
                          trainableLayer: trainableLayer)
    if firstEpoch > settings.epochs { return (model, reports) }
    for epoch in firstEpoch...settings.epochs {
      var report = trainer.trainEpoch(epoch, on: train, progress: progress)
      if let test {
        let (eval, _) = evaluate(model, on: test)
        report.testAccuracy = eval.accuracy
        report.testLoss = eval.meanLoss
      }
      try save(model: model, optimizer: trainer.optimizer, epoch: epoch, report: report)
      reports.append(report)
      epochEnd(report)
    }
    return (model, reports)
  }

  func save(model: Model, optimizer: any Optimizer, epoch: Int, report: EpochReport) throws {
    var meta = metadata
    meta[MetadataKey.settings] = settings.jsonString()
    meta[MetadataKey.epoch] = String(epoch)
    meta[MetadataKey.seed] = String(settings.seed)
    if let acc = report.testAccuracy { meta[MetadataKey.testAccuracy] = String(format: "%.6f", acc) }
    try Checkpoint.save(model, to: output, metadata: meta)
    try SafeTensors.write(optimizer.state, metadata: [MetadataKey.epoch: String(epoch), MetadataKey.settings: settings.jsonString()],
                          to: stateURL)
    var log = (try? Data(contentsOf: logURL)) ?? Data()
    log.append(Data((stableJSON(report) + "\n").utf8))
    try AtomicFile.write(log, to: logURL)
  }

  func resumeState(into optimizer: inout any Optimizer) throws -> (Model, Int, [EpochReport]) {
    let fm = FileManager.default
    guard fm.fileExists(atPath: output.path) else {
      throw TrainingJobError.cannotResume(path: output.path, reason: "no checkpoint to resume from")
    }
    let (model, metadata) = try Checkpoint.load(from: output, builder: builder)
    guard model.spec == spec else {
      throw TrainingJobError.cannotResume(path: output.path, reason: "the checkpoint's model spec differs from the requested one")
    }
    let state = try SafeTensors.read(from: stateURL)
    guard let epochText = state.metadata[MetadataKey.epoch], let epoch = Int(epochText),
          metadata[MetadataKey.epoch] == epochText else {
      throw TrainingJobError.cannotResume(path: stateURL.path, reason: "optimizer state and checkpoint are from different epochs")
    }
    guard state.metadata[MetadataKey.settings].flatMap({ try? JSONDecoder().decode(TrainingSettings.self, from: Data($0.utf8)) })
            .map({ sameRun($0, settings) }) ?? false else {
      throw TrainingJobError.cannotResume(path: stateURL.path, reason: "the saved training settings differ from the requested ones")
    }
    do { try optimizer.loadState(state.tensors) } catch {
      throw TrainingJobError.cannotResume(path: stateURL.path, reason: "\(error)")
    }
    let decoder = JSONDecoder()
    let reports = ((try? String(contentsOf: logURL, encoding: .utf8)) ?? "").split(separator: "\n")
      .compactMap { try? decoder.decode(EpochReport.self, from: Data($0.utf8)) }.filter { $0.epoch <= epoch }
    return (model, epoch + 1, reports)
  }

  /// Settings that may differ on resume: only the number of epochs (to extend a run).
  func sameRun(_ a: TrainingSettings, _ b: TrainingSettings) -> Bool {
    var x = a
    x.epochs = b.epochs
    return x == b
  }
}
