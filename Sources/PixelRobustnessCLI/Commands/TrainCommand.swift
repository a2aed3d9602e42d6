import ArgumentParser
import Foundation
import PixelData
import PixelNN
import PixelTraining

extension PixelRobustCommand {
  /// `pixelrobust train`: train a classifier with checkpoints every epoch.
  struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "train",
      abstract: "Train an image classifier; checkpoints, optimizer state and a JSON-lines log every epoch.")

    @Option(help: "Data set: fashion-mnist | idx:DIR | cifar10:DIR | cifar100:DIR | folder:DIR.")
    var data: String = "fashion-mnist"
    @Option(help: "Evaluate on the first N test examples only.")
    var testLimit: Int?
    @Option(help: "Built-in architecture: \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")).")
    var arch: String = "small-cnn"
    @Option(help: "A model spec JSON file instead of --arch.")
    var spec: String?
    @Option(help: "Hidden widths of mlp, comma-separated.")
    var hidden: String = "256,256"
    @Option(help: "Depth and width of wide-resnet, as DEPTH,WIDTH.")
    var wide: String = "16,4"
    @OptionGroup var training: TrainingOptions
    @Option(help: "SGD momentum.")
    var momentum: Float = 0.9
    @Flag(help: "Nesterov momentum (sgd).")
    var nesterov = false
    @Option(help: "Learning-rate schedule: constant, step or cosine.")
    var schedule: String = "constant"
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
    @Option(help: "Checkpoint path (.safetensors); the optimizer state and log are written beside it.")
    var output: String
    @Flag(help: "Continue from the checkpoint and optimizer state at --output.")
    var resume = false

    func validate() throws {
      guard TrainingSettings.ScheduleKind(rawValue: schedule) != nil else { throw ValidationError("--schedule must be constant, step or cosine.") }
      if spec == nil, Architecture(rawValue: arch) == nil {
        throw ValidationError("--arch must be one of \(Architecture.allCases.map(\.rawValue).joined(separator: ", ")).")
      }
      do { _ = try DataSource(parsing: data) } catch { throw ValidationError("\(error)") }
      if let problem = settings.validationError() { throw ValidationError(problem + ".") }
    }

    var settings: TrainingSettings {
      var s = training.settings(data: data)
      s.momentum = momentum
      s.nesterov = nesterov
      s.schedule = TrainingSettings.ScheduleKind(rawValue: schedule) ?? .constant
      s.stepEpochs = stepEpochs
      s.gamma = gamma
      s.warmupEpochs = warmupEpochs
      s.gradientClipNorm = clipNorm
      s.labelSmoothing = labelSmoothing
      s.cropPadding = cropPadding
      s.horizontalFlip = flip
      return s
    }

    func modelSpec(for train: Dataset) throws -> ModelSpec {
      if let spec { return try ModelSpec.read(from: URL(cliPath: spec)) }
      let widths = hidden.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
      let wideParts = wide.split(separator: ",").compactMap { Int($0) }
      guard wideParts.count == 2, (wideParts[0] - 4) % 6 == 0, wideParts[0] >= 10, wideParts[1] >= 1 else {
        throw ValidationError("--wide must be DEPTH,WIDTH with DEPTH = 6n + 4.")
      }
      return Architecture(rawValue: arch)!.spec(input: train.imageShape, classes: train.classCount, hidden: widths,
                                                 depth: wideParts[0], width: wideParts[1])
    }

    func run() throws {
      Console.announceRuntime()
      let source = try DataSource(parsing: data)
      let train = try source.load(split: .train, limit: training.limit)
      let test = try source.load(split: .test, limit: testLimit, channels: train.imageShape[0])
      let spec = try modelSpec(for: train)
      guard spec.input == train.imageShape else {
        throw ValidationError("the model expects inputs \(spec.input), the data has \(train.imageShape)")
      }
      Console.note("training \(spec.layers.count)-layer model on \(train.name) (\(train.count) images), "
                   + "testing on \(test.name) (\(test.count)); output \(output)")
      let job = TrainingJob(spec: spec, settings: settings, output: URL(cliPath: output), builder: modelBuilder)
      let bar = Console.ProgressBar()
      try job.run(train: train, test: test, resume: resume, progress: { p in
        bar.update(label: "epoch \(p.epoch)/\(training.epochs)", done: p.batch, total: p.batches,
                   detail: String(format: "loss %.4f, %.0f images/s", p.runningLoss, p.imagesPerSecond))
      }, epochEnd: { r in
        Console.note(String(format: "epoch %d: train loss %.4f, train accuracy %.2f%%, test accuracy %.2f%%, %.0f images/s, %.1f s",
                            r.epoch, r.trainLoss, r.trainAccuracy * 100, (r.testAccuracy ?? .nan) * 100, r.imagesPerSecond, r.seconds))
      })
      print("wrote \(output), \(job.stateURL.path) and \(job.logURL.path)")
    }
  }
}
