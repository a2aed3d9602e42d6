import ArgumentParser
import Foundation
import PixelData
import PixelDefenses
import PixelNN
import PixelTensor
import PixelTraining

extension PixelRobustCommand {
  /// `pixelrobust prm`: the Pixel Robustness Manipulator.
  struct PRMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "prm",
      abstract: "Pixel Robustness Manipulator (Hwang et al. 2019): train, sweep λ, build the switching defense.",
      subcommands: [PRMTrainCommand.self, PRMSweepCommand.self, PRMDefendCommand.self])
  }

  /// The classifier under a PRM: a checkpoint's spec and weights, or a fresh built-in architecture.
  static func classifierSpec(path: String?, arch: ArchitectureChoice, train: Dataset) throws -> (ModelSpec, [String: Tensor]) {
    if let path {
      let (model, _) = try loadCheckpoint(path)
      guard model.spec.input == train.imageShape else {
        throw ValidationError("the classifier expects \(model.spec.input), the data has \(train.imageShape)")
      }
      return (model.spec, model.stateTensors)
    }
    return (arch.value.spec(input: train.imageShape, classes: train.classCount), [:])
  }

  struct PRMTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "train", abstract: "Train a PRM-defended model with the gradient-steering λ loss.")

    @Option(help: ArgumentHelp(SharedHelp.data))
    var data: String = "fashion-mnist"
    @Option(help: "Evaluate after each epoch on the first N examples of the test split.")
    var testLimit = 2000
    @OptionGroup var designation: DesignationOptions
    @Option(help: "λ: weight of the off-designated gradient share S(g).")
    var lambda: Float = 1
    @Option(help: "α: the classifier sees α·P(x) + (1 − α)·x.")
    var mix: Float = 0.5
    @OptionGroup var prm: PRMModelOptions
    @OptionGroup var training: TrainingOptions
    @Option(help: "Checkpoint file (.safetensors); optimizer state and log are written beside it.")
    var output: String
    @Flag(help: "Continue from the checkpoint at --output.")
    var resume = false

    func validate() throws {
      guard lambda >= 0, lambda.isFinite else { throw ValidationError("--lambda must be finite and ≥ 0.") }
      guard mix >= 0, mix <= 1 else { throw ValidationError("--mix must be in [0, 1].") }
      guard testLimit >= 1 else { throw ValidationError("--test-limit must be at least 1.") }
      do { _ = try DataSource(parsing: data) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
      var check = OutputCheck(files: TrainingJob.files(output: URL(cliPath: output)).map(\.path),
                              inputs: [prm.classifier].compactMap { $0 })
      check.reading(data: data)
      try check.run()
      Console.announceRuntime()
      let source = try DataSource(parsing: data)
      let train = try source.load(split: .train, limit: training.limit)
      let test = try source.load(split: .test, limit: testLimit, channels: train.imageShape[0])
      let (cSpec, cState) = try PixelRobustCommand.classifierSpec(path: prm.classifier, arch: prm.arch, train: train)
      let d = try designation.designated(height: train.imageShape[1], width: train.imageShape[2])
      let spec = try PRMModels.spec(classifier: cSpec, designated: d, width: prm.width, depth: prm.depth, mix: mix)
      let objective = PRMObjective(lambda: lambda, designated: d.mask(height: train.imageShape[1], width: train.imageShape[2]),
                                   channels: train.imageShape[0], reconstructionWeight: prm.reconstruction)
      try withDataParallelGroup { group in
        let job = TrainingJob(spec: spec, settings: training.settings(data: data), output: URL(cliPath: output), objective: objective,
                              metadata: ["pixelrobust.prm.lambda": "\(lambda)", "pixelrobust.prm.mix": "\(mix)"],
                              trainableLayer: prm.freezeClassifier ? PRMModels.layerName : nil, initialState: cState,
                              builder: modelBuilder, group: group)
        let lead = (group?.rank ?? 0) == 0
        try job.run(train: train, test: test, resume: resume, progress: Console.epochProgress(lead: lead, epochs: training.epochs),
                    epochEnd: { r in
          guard lead else { return }
          Console.note(String(format: "epoch %d: train loss %.4f, test accuracy (first %d) %.2f%%", r.epoch, r.trainLoss, test.count,
                              (r.testAccuracy ?? .nan) * 100))
        })
        if lead { print("wrote \(output)") }
      }
    }
  }

  struct PRMSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sweep",
      abstract: "Train one PRM per λ (and α) and report accuracy, IoU(top of Ḡ, designated) and masked PGD: iou_report.json/.md, heatmaps.png.")

    @Option(help: ArgumentHelp(SharedHelp.data))
    var data: String = "fashion-mnist"
    @OptionGroup var designation: DesignationOptions
    @Option(help: "λ values, comma-separated.")
    var lambdas = CommaList<Float>([0, 0.1, 1, 10])
    @Option(help: "α values, comma-separated.")
    var mixes = CommaList<Float>([0.5])
    @OptionGroup var prm: PRMModelOptions
    @OptionGroup var training: TrainingOptions
    @Option(help: "Test images for the map, S and the masked attacks.")
    var evaluationImages = 1000
    @Option(help: "L∞ budget(s) ε of the masked PGD in [0, 1], comma-separated.")
    var epsilon = CommaList<Float>([0.1])
    @Option(help: "Steps of the masked PGD, comma-separated; the step size is ε/4.")
    var steps = CommaList<Int>([10])
    @Option(help: "Output folder (one subfolder per setting with its checkpoint; iou_report.json/.md, heatmaps.png).")
    var output: String

    var lambdaValues: [Float] { lambdas.values }
    var mixValues: [Float] { mixes.values }

    func validate() throws {
      guard lambdaValues.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw ValidationError("--lambdas must be finite and ≥ 0.") }
      guard mixValues.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw ValidationError("--mixes must be numbers in [0, 1].") }
      guard epsilon.values.allSatisfy({ $0 >= 0 && $0 <= 1 }) else { throw ValidationError("--epsilon must be in [0, 1].") }
      guard evaluationImages >= 1, steps.values.allSatisfy({ $0 >= 1 }) else {
        throw ValidationError("--evaluation-images and --steps must be ≥ 1.")
      }
      do { _ = try DataSource(parsing: data) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
      try OutputCheck.startFolderJob(output: output, inputs: [prm.classifier].compactMap { $0 }, data: data)
      let source = try DataSource(parsing: data)
      let train = try source.load(split: .train, limit: training.limit)
      let test = try source.load(split: .test, channels: train.imageShape[0])
      let (cSpec, cState) = try PixelRobustCommand.classifierSpec(path: prm.classifier, arch: prm.arch, train: train)
      let (h, w) = (train.imageShape[1], train.imageShape[2])
      let sweep = PRMSweep(lambdas: lambdaValues, mixes: mixValues, designated: try designation.designated(height: h, width: w),
                           width: prm.width, depth: prm.depth, settings: training.settings(data: data), classifier: cSpec,
                           classifierState: cState, freezeClassifier: prm.freezeClassifier, reconstructionWeight: prm.reconstruction,
                           evaluationImages: evaluationImages, attackEpsilons: epsilon.values, attackSteps: steps.values)
      let folder = URL(cliPath: output)
      let bar = Console.ProgressBar()
      let (rows, maps) = try sweep.run(train: train, test: test, folder: folder, progress: { Console.note($0) }, batchProgress: { p in
        bar.update(label: "  epoch \(p.epoch)", done: p.batch, total: p.batches,
                   detail: String(format: "loss %.4f, %.0f images/s", p.runningLoss, p.imagesPerSecond))
      })
      print(try sweep.write(rows, maps: maps, data: train.name, height: h, width: w, to: folder))
    }
  }

  struct PRMDefendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "defend",
      abstract: "Build a randomized defense: the PRM switch over several PRM models, or random resize-and-pad in front of a classifier.",
      discussion: "The result is a randomized model: attack it with `pixelrobust attack --eot N --classify R --seeds S`.")

    @Option(name: [.customLong("models"), .customLong("modules")],
            help: "PRM-defended checkpoints to switch between, comma-separated (--modules is the old spelling).")
    var models: CommaList<String>?
    @Option(help: "PRMs applied in sequence per forward pass.")
    var chain = 1
    @Option(name: [.customLong("model"), .customLong("resize-pad")],
            help: "Instead: a classifier checkpoint to put random resize-and-pad in front of (--resize-pad is the old spelling).")
    var model: String?
    @Option(help: "Smallest size drawn by random resize-and-pad (default 7/8 of the image).")
    var minSize: Int?
    @Option(help: "Seed of the defense's random draws.")
    var seed: UInt64 = 0
    @Option(help: "Output checkpoint file (.safetensors).")
    var output: String

    func validate() throws {
      guard (models == nil) != (model == nil) else { throw ValidationError("give either --models (switch) or --model (resize-and-pad).") }
      guard chain >= 1, chain <= 64 else { throw ValidationError("--chain must be in 1...64.") }
      if let minSize, minSize < 1 { throw ValidationError("--min-size must be at least 1.") }
    }

    func run() throws {
      try OutputCheck(files: [output], inputs: (models?.values ?? []) + [model].compactMap { $0 }).run()
      Console.announceRuntime()
      let spec: ModelSpec, state: [String: Tensor]
      if let models {
        let loaded = try models.values.map { try loadCheckpoint($0).model }
        if let i = loaded.firstIndex(where: { $0.prm == nil }) {
          throw ValidationError("\(models.values[i]) is not PRM-defended (its first layer is no prm).")
        }
        (spec, state) = try PRMModels.switching(loaded, chain: chain, seed: seed)
      } else {
        (spec, state) = try PRMModels.resizePad(try loadCheckpoint(model!).model, minimumSize: minSize, seed: seed)
      }
      let defended = try Model(spec: spec, seed: 0, builder: modelBuilder)
      try defended.loadState(state, source: "defended modules")
      try Checkpoint.save(defended, to: URL(cliPath: output), metadata: ["pixelrobust.randomized": "true"])
      print("wrote \(output): a randomized model (\(defended.parameterCount) weights)")
    }
  }
}
