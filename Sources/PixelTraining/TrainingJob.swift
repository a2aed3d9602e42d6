import Foundation
import PixelData
import PixelNN
import PixelTensor

/// A problem that stops a training job before it starts; names the file and the reason.
public enum TrainingJobError: Error, CustomStringConvertible {
  case cannotResume(path: String, reason: String)
  case invalidSettings(String)
  /// Another process is training into the same output (its lock file is held).
  case busy(path: String)

  public var description: String {
    switch self {
    case let .busy(p): return "\(p): another training run is writing this output (its lock is held); wait for it or choose another --output"
    case let .cannotResume(p, r): return "\(p): cannot resume: \(r)"
    case let .invalidSettings(r): return "invalid training settings: \(r)"
    }
  }
}

/// A whole training run as `pixelrobust train` performs it: build (or resume) the model, train
/// epoch by epoch, evaluate on the test split, and after every epoch write the checkpoint,
/// the optimizer state (`<output>.state.safetensors`, for `--resume`) and a JSON-lines log
/// (`<output>.log.jsonl`) — each file atomically.
///
/// The checkpoint and the optimizer state are one unit: the new state is written beside the old
/// one (`<output>.state.next.safetensors`) before the checkpoint is replaced and is renamed into
/// place after, so at every moment some state file matches the checkpoint's epoch and a run
/// killed anywhere resumes. An advisory lock (`<output>.lock`) keeps two processes off one
/// output, and a fresh run keeps the old log until its own first checkpoint is written.
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
  /// Data-parallel training as one process of `group` (see ``Trainer/group``): every process
  /// trains the same weights; rank 0 alone takes the lock, evaluates the test split and writes
  /// the checkpoint, state and log, and with `resume` every process reads them.
  public var group: (any DataParallelGroup)?

  /// A job training `spec` under `objective` into `output`; without an objective, plain
  /// cross-entropy with `settings.labelSmoothing`.
  public init(spec: ModelSpec, settings: TrainingSettings, output: URL, objective: (any TrainingObjective)? = nil,
              metadata: [String: String] = [:], trainableLayer: String? = nil, initialState: [String: Tensor] = [:],
              builder: ModelBuilder = .standard, group: (any DataParallelGroup)? = nil) {
    self.group = group
    self.spec = spec
    self.settings = settings
    self.output = output
    self.objective = objective ?? StandardTraining(labelSmoothing: settings.labelSmoothing,
                                                   temperature: settings.objective?.temperature ?? 1)
    self.builder = builder
    self.metadata = metadata
    self.trainableLayer = trainableLayer
    self.initialState = initialState
  }

  /// The optimizer-state file beside the checkpoint.
  public var stateURL: URL { Self.sibling(output, "state.safetensors") }
  /// The optimizer state of an epoch being committed (see the type's discussion).
  var nextStateURL: URL { Self.sibling(output, "state.next.safetensors") }
  /// The JSON-lines log beside the checkpoint.
  public var logURL: URL { Self.sibling(output, "log.jsonl") }
  /// The advisory lock file beside the checkpoint.
  var lockURL: URL { Self.sibling(output, "lock") }

  static func sibling(_ output: URL, _ suffix: String) -> URL {
    output.deletingPathExtension().appendingPathExtension(suffix)
  }

  /// Every file a job writes for `output`: the checkpoint, both optimizer-state files, the log
  /// and the lock (for commands to check before they start).
  public static func files(output: URL) -> [URL] {
    [output] + ["state.safetensors", "state.next.safetensors", "log.jsonl", "lock"].map { sibling(output, $0) }
  }

  /// Metadata keys of a checkpoint written by a training job.
  public enum MetadataKey {
    public static let settings = "pixelrobust.training"
    public static let epoch = "pixelrobust.epoch"
    public static let seed = "pixelrobust.seed"
    public static let testAccuracy = "pixelrobust.test_accuracy"
    /// In the optimizer state: the epoch's ``EpochReport`` as JSON, so the log can be repaired
    /// on resume when a run was killed before its log line was written.
    public static let epochReport = "pixelrobust.epoch_report"
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
    let writes = (group?.rank ?? 0) == 0
    let lock = writes ? try acquireLock() : -1
    defer { if lock >= 0 { close(lock) } }
    let model: Model
    var optimizer = settings.makeOptimizer()
    var firstEpoch = 1
    var reports: [EpochReport] = []
    if resume {
      (model, firstEpoch, reports) = try resumeState(into: &optimizer, repairingLog: writes)
    } else {
      model = try Model(spec: spec, seed: settings.seed, builder: builder)
      if !initialState.isEmpty { try model.loadState(initialState, source: "initial weights", strict: false) }
    }
    let trainer = Trainer(model: model, optimizer: optimizer, objective: objective, settings: settings,
                          trainableLayer: trainableLayer, group: group)
    if firstEpoch > settings.epochs { return (model, reports) }
    for epoch in firstEpoch...settings.epochs {
      var report = trainer.trainEpoch(epoch, on: train, progress: progress)
      if let test, writes {
        let (eval, _) = evaluate(model, on: test)
        report.testAccuracy = eval.accuracy
        report.testLoss = eval.meanLoss
      }
      if writes { try save(model: model, optimizer: trainer.optimizer, epoch: epoch, report: report, freshLog: !resume && epoch == 1) }
      reports.append(report)
      epochEnd(report)
    }
    return (model, reports)
  }

  /// Commits epoch `epoch`: state beside the old one, then the checkpoint, then the state into
  /// place, then the log (a fresh run's first epoch starts a new log).
  func save(model: Model, optimizer: any Optimizer, epoch: Int, report: EpochReport, freshLog: Bool) throws {
    var meta = metadata
    meta[MetadataKey.settings] = settings.jsonString()
    meta[MetadataKey.epoch] = String(epoch)
    meta[MetadataKey.seed] = String(settings.seed)
    if let acc = report.testAccuracy { meta[MetadataKey.testAccuracy] = String(format: "%.6f", acc) }
    try SafeTensors.write(optimizer.state, metadata: [MetadataKey.epoch: String(epoch), MetadataKey.settings: settings.jsonString(),
                                                      MetadataKey.epochReport: stableJSON(report)],
                          to: nextStateURL)
    try Checkpoint.save(model, to: output, metadata: meta)
    guard rename(nextStateURL.path, stateURL.path) == 0 else {
      throw AtomicFileError.writeFailed(path: stateURL.path, reason: String(cString: strerror(errno)))
    }
    var log = freshLog ? Data() : (try? Data(contentsOf: logURL)) ?? Data()
    log.append(Data((stableJSON(report) + "\n").utf8))
    try AtomicFile.write(log, to: logURL)
  }

  /// Takes the advisory lock of `output` (a file descriptor to close when done).
  /// - Throws: ``TrainingJobError/busy(path:)`` when another process holds it.
  func acquireLock() throws -> Int32 {
    try AtomicFile.checkWritable(lockURL)
    try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
    let fd = open(lockURL.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw AtomicFileError.writeFailed(path: lockURL.path, reason: String(cString: strerror(errno))) }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      close(fd)
      throw TrainingJobError.busy(path: output.path)
    }
    return fd
  }

  /// - Parameter repairingLog: rewrite the log to the committed epochs (the writing process only).
  func resumeState(into optimizer: inout any Optimizer, repairingLog: Bool = true) throws -> (Model, Int, [EpochReport]) {
    let fm = FileManager.default
    guard fm.fileExists(atPath: output.path) else {
      throw TrainingJobError.cannotResume(path: output.path, reason: "no checkpoint to resume from")
    }
    let (model, metadata) = try Checkpoint.load(from: output, builder: builder)
    guard model.spec == spec else {
      throw TrainingJobError.cannotResume(path: output.path, reason: "the checkpoint's model spec differs from the requested one")
    }
    // The state of the checkpoint's epoch is in the state file, or, when a run was killed
    // between replacing the checkpoint and renaming the new state, in the next-state file.
    let candidates = [stateURL, nextStateURL].filter { FileManager.default.fileExists(atPath: $0.path) }
    guard let (state, epoch) = try candidates.lazy.compactMap({ url -> (SafeTensorsArchive, Int)? in
      let archive = try SafeTensors.read(from: url)
      guard let text = archive.metadata[MetadataKey.epoch], text == metadata[MetadataKey.epoch], let e = Int(text) else { return nil }
      return (archive, e)
    }).first else {
      throw TrainingJobError.cannotResume(path: stateURL.path, reason: "no optimizer state of the checkpoint's epoch \(metadata[MetadataKey.epoch] ?? "?")")
    }
    guard state.metadata[MetadataKey.settings].flatMap({ try? JSONDecoder().decode(TrainingSettings.self, from: Data($0.utf8)) })
            .map({ sameRun($0, settings) }) ?? false else {
      throw TrainingJobError.cannotResume(path: stateURL.path, reason: "the saved training settings differ from the requested ones")
    }
    do { try optimizer.loadState(state.tensors) } catch {
      throw TrainingJobError.cannotResume(path: stateURL.path, reason: "\(error)")
    }
    let decoder = JSONDecoder()
    var reports = ((try? String(contentsOf: logURL, encoding: .utf8)) ?? "").split(separator: "\n")
      .compactMap { try? decoder.decode(EpochReport.self, from: Data($0.utf8)) }.filter { $0.epoch <= epoch }
    // State files written before reports were kept in them hold none: keep the log's line then.
    if let last = state.metadata[MetadataKey.epochReport].flatMap({ try? decoder.decode(EpochReport.self, from: Data($0.utf8)) }) {
      reports = reports.filter { $0.epoch < epoch } + [last]
    }
    // The log holds exactly the committed epochs again (a kill may have cut its last line).
    if repairingLog { try AtomicFile.write(Data(reports.map { stableJSON($0) + "\n" }.joined().utf8), to: logURL) }
    return (model, epoch + 1, reports)
  }

  /// Settings that may differ on resume: only the number of epochs (to extend a run).
  func sameRun(_ a: TrainingSettings, _ b: TrainingSettings) -> Bool {
    var x = a
    x.epochs = b.epochs
    return x == b
  }
}
