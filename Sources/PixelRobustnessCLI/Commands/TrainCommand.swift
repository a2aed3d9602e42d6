import ArgumentParser
import Foundation
import PixelData
import PixelDefenses
import PixelNN
import PixelTraining

extension PixelRobustCommand {
  /// `pixelrobust train`: train a classifier with checkpoints every epoch.
  struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "train",
      abstract: "Train an image classifier; checkpoints, optimizer state and a JSON-lines log every epoch.")

    @Option(help: ArgumentHelp(SharedHelp.data))
    var data: String = "fashion-mnist"
    @Option(help: "Evaluate on the first N examples of the test split only.")
    var testLimit: Int?
    @Option(help: "Built-in architecture.")
    var arch: ArchitectureChoice = .smallCNN
    @Option(help: "A model spec JSON file instead of --arch.")
    var spec: String?
    @Option(help: "Hidden widths of mlp, comma-separated.")
    var hidden = CommaList<Int>([256, 256])
    @Option(help: "Depth and width of wide-resnet, as DEPTH,WIDTH (DEPTH = 6n + 4).")
    var wide = CommaList<Int>([16, 4])
    @OptionGroup var training: TrainingOptions
    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9
    @Flag(help: "Nesterov momentum (sgd).")
    var nesterov = false
    @Option(help: "Learning-rate schedule.")
    var schedule: ScheduleChoice = .constant
    @Option(help: "For --schedule step: epochs between decays.")
    var stepEpochs = 30
    @Option(help: "For --schedule step: decay factor.")
    var gamma: Float = 0.1
    @Option(help: "Epochs of linear learning-rate warm-up.")
    var warmupEpochs = 0
    @Option(help: "Clip the global gradient norm to this value.")
    var clipNorm: Float?
    @Option(help: "Label smoothing in [0, 1).")
    var labelSmoothing: Float = 0
    @Option(help: "Random-crop padding in pixels (CIFAR-style augmentation); 0 disables.")
    var cropPadding = 0
    @Flag(help: "Random horizontal flips.")
    var flip = false
    @OptionGroup var objective: ObjectiveOptions
    @Option(name: .customLong("init"),
            help: "Fine-tune: start from this checkpoint's architecture and weights (a fresh optimizer; --arch and --spec do not apply).")
    var initial: String?
    @Option(help: "Checkpoint file (.safetensors); the optimizer state <name>.state.safetensors and the log <name>.log.jsonl are written beside it.")
    var output: String
    @Flag(help: "Continue from the checkpoint and optimizer state at --output.")
    var resume = false

    func validate() throws {
      do { _ = try DataSource(parsing: data) } catch { throw ValidationError("\(error)") }
      try requireFinite([momentum, gamma, labelSmoothing] + (clipNorm.map { [$0] } ?? []),
                        "--momentum, --gamma, --label-smoothing and --clip-norm")
      if let problem = settings.validationError() { throw ValidationError(problem + ".") }
      if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1.") }
      if initial != nil && spec != nil { throw ValidationError("--init takes the architecture from its checkpoint: drop --spec.") }
      guard hidden.values.allSatisfy({ $0 >= 1 && $0 <= 1 << 20 }) else { throw ValidationError("--hidden widths must be in 1...1048576.") }
      let w = wide.values
      guard w.count == 2, w[0] >= 10, w[0] <= 1000, (w[0] - 4) % 6 == 0, w[1] >= 1, w[1] <= 64 else {
        throw ValidationError("--wide must be DEPTH,WIDTH with DEPTH = 6n + 4 in 10...1000 and WIDTH in 1...64.")
      }
    }

    var settings: TrainingSettings {
      var s = training.settings(data: data)
      s.momentum = momentum
      s.nesterov = nesterov
      s.schedule = schedule.value
      s.stepEpochs = stepEpochs
      s.gamma = gamma
      s.warmupEpochs = warmupEpochs
      s.gradientClipNorm = clipNorm
      s.labelSmoothing = labelSmoothing
      s.cropPadding = cropPadding
      s.horizontalFlip = flip
      s.objective = objective.settings
      return s
    }

    /// The spec of `--spec`, checked by building it (errors name the file) before any data loads.
    func specFile() throws -> ModelSpec? {
      guard let spec else { return nil }
      let model = try ModelSpec.read(from: URL(cliPath: spec))
      _ = try modelBuilder.build(model, seed: 0, source: spec)
      return model
    }

    func modelSpec(for train: Dataset, file: ModelSpec?) throws -> ModelSpec {
      if let file { return file }
      return arch.value.spec(input: train.imageShape, classes: train.classCount, hidden: hidden.values,
                             depth: wide.values[0], width: wide.values[1])
    }

    func run() throws {
      var check = OutputCheck(files: TrainingJob.files(output: URL(cliPath: output)).map(\.path),
                              inputs: [spec, objective.teacher, initial].compactMap { $0 })
      check.reading(data: data)
      try check.run()
      Console.announceRuntime()
      let start = try initial.map { try loadCheckpoint($0).model }
      let file = try start?.spec ?? specFile()
      let source = try DataSource(parsing: data)
      let train = try source.load(split: .train, limit: training.limit)
      let test = try source.load(split: .test, limit: testLimit, channels: train.imageShape[0])
      let spec = try (settings.objective ?? ObjectiveSettings()).architecture(for: modelSpec(for: train, file: file))
      guard spec.input == train.imageShape else {
        throw ValidationError("the model expects inputs \(spec.input), the data has \(train.imageShape)")
      }
      Console.note("training \(spec.layers.count)-layer model for \(spec.classes) classes on \(train.name) (\(train.count) images, "
                   + "classes \(train.classNames.prefix(4).joined(separator: ", "))\(train.classCount > 4 ? ", …" : "")), "
                   + "testing on \(test.name) (\(test.count)); output \(output)")
      let teacher = try objective.teacher.map { try loadCheckpoint($0).model }
      if let teacher, teacher.spec.input != spec.input || teacher.spec.classes != spec.classes {
        throw ValidationError("the teacher \(objective.teacher!) has inputs \(teacher.spec.input) and \(teacher.spec.classes) classes; "
                              + "the student has \(spec.input) and \(spec.classes)")
      }
      try withDataParallelGroup { group in
        let job = TrainingJob(spec: spec, settings: settings, output: URL(cliPath: output),
                              objective: try (settings.objective ?? ObjectiveSettings()).makeObjective(teacher: teacher,
                                                                                                      labelSmoothing: labelSmoothing),
                              metadata: initial.map { ["pixelrobust.init": $0] } ?? [:], initialState: start?.stateTensors ?? [:],
                              builder: modelBuilder, group: group)
        let lead = (group?.rank ?? 0) == 0
        if lead { Console.note("objective: \(objective.kind.rawValue)" + (initial.map { ", starting from \($0)" } ?? "")) }
        try job.run(train: train, test: test, resume: resume, progress: Console.epochProgress(lead: lead, epochs: settings.epochs),
                    epochEnd: { r in
          guard lead else { return }
          Console.note(String(format: "epoch %d: train loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, %.0f images/s, %.1f s",
                              r.epoch, r.trainLoss, r.trainAccuracy * 100, (r.testAccuracy ?? .nan) * 100, r.imagesPerSecond, r.seconds))
        })
        if lead { print("wrote \(output), \(job.stateURL.path) and \(job.logURL.path)") }
      }
    }
  }
}

enum ArchitectureChoice: String, ExpressibleByArgument, CaseIterable {
  case mlp, smallCNN = "small-cnn", rossCNN = "ross-cnn", resnet20, wideResNet = "wide-resnet"
  var value: Architecture { Architecture(rawValue: rawValue)! }
}

enum ScheduleChoice: String, ExpressibleByArgument, CaseIterable {
  case constant, step, cosine
  var value: TrainingSettings.ScheduleKind { TrainingSettings.ScheduleKind(rawValue: rawValue)! }
}
