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
  static func classifierSpec(path: String?, arch: String, train: Dataset) throws -> (ModelSpec, [String: Tensor]) {
    if let path {
      let (model, _) = try loadCheckpoint(path)
      guard model.spec.input == train.imageShape else {
        throw ValidationError("the classifier expects \(model.spec.input), the data has \(train.imageShape)")
      }
      return (model.spec, model.stateTensors)
    }
    guard let a = Architecture(rawValue: arch) else { throw ValidationError("unknown --arch \(arch)") }
    return (a.spec(input: train.imageShape, classes: train.classCount), [:])
  }

  struct PRMTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "train", abstract: "Train a PRM-defended model with the gradient-steering λ loss.")

    @Option(help: "Data set: fashion-mnist | idx:DIR | cifar10:DIR | cifar100:DIR | folder:DIR.")
    var data: String = "fashion-mnist"
    @OptionGroup var designation: DesignationOptions
    @Option(help: "λ: weight of the off-designated gradient share S(g).")
    var lambda: Float = 1
    @Option(help: "α: the classifier sees α·P(x) + (1 − α)·x.")
    var mix: Float = 0.5
    @OptionGroup var prm: PRMModelOptions
    @OptionGroup var training: TrainingOptions
    @Option(help: "Output checkpoint (.safetensors).")
    var output: String
    @Flag(help: "Continue from the checkpoint at --output.")
    var resume = false

    func validate() throws {
      guard lambda >= 0 else { throw ValidationError("--lambda must be ≥ 0.") }
      guard mix >= 0, mix <= 1 else { throw ValidationError("--mix must be in [0, 1].") }
    }

    func run() throws {
      Console.announceRuntime()
      let source = try DataSource(parsing: data)
      let train = try source.load(split: .train, limit: training.limit)
      let test = try source.load(split: .test, limit: 2000, channels: train.imageShape[0])
      let (cSpec, cState) = try PixelRobustCommand.classifierSpec(path: prm.classifier, arch: prm.arch, train: train)
      let d = try designation.designated(height: train.imageShape[1], width: train.imageShape[2])
      let spec = try PRMModels.spec(classifier: cSpec, designated: d, width: prm.width, depth: prm.depth, mix: mix)
      let objective = PRMObjective(lambda: lambda, designated: d.mask(height: train.imageShape[1], width: train.imageShape[2]),
                                   channels: train.imageShape[0], reconstructionWeight: prm.reconstruction)
      let job = TrainingJob(spec: spec, settings: training.settings(data: data), output: URL(cliPath: output), objective: objective,
                            metadata: ["pixelrobust.prm.lambda": "\(lambda)", "pixelrobust.prm.mix": "\(mix)"],
                            trainableLayer: prm.freezeClassifier ? PRMModels.layerName : nil, initialState: cState,
                            builder: modelBuilder)
      let bar = Console.ProgressBar()
      try job.run(train: train, test: test, resume: resume, progress: { p in
        bar.update(label: "epoch \(p.epoch)/\(training.epochs)", done: p.batch, total: p.batches,
                   detail: String(format: "loss %.4f, %.0f images/s", p.runningLoss, p.imagesPerSecond))
      }, epochEnd: { r in
        Console.note(String(format: "epoch %d: train loss %.4f, test accuracy (first 2000) %.2f%%", r.epoch, r.trainLoss, (r.testAccuracy ?? .nan) * 100))
      })
      print("wrote \(output)")
    }
  }

  struct PRMSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "sweep",
      abstract: "Train one PRM per λ (and α) and report accuracy, IoU(top of Ḡ, designated) and masked PGD: iou_report.json/.md, heatmaps.png.")

    @Option(help: "Data set.")
    var data: String = "fashion-mnist"
    @OptionGroup var designation: DesignationOptions
    @Option(help: "λ values, comma-separated.")
    var lambdas: String = "0,0.1,1,10"
    @Option(help: "α values, comma-separated.")
    var mixes: String = "0.5"
    @OptionGroup var prm: PRMModelOptions
    @OptionGroup var training: TrainingOptions
    @Option(help: "Test images for the map, S and the masked attacks.")
    var evaluationImages = 1000
    @Option(help: "ε of the masked PGD.")
    var epsilon: Float = 0.1
    @Option(help: "Steps of the masked PGD.")
    var steps = 10
    @Option(help: "Output folder.")
    var output: String

    var lambdaValues: [Float] { lambdas.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) } }
    var mixValues: [Float] { mixes.split(separator: ",").compactMap { Float($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
      guard !lambdaValues.isEmpty, lambdaValues.count == lambdas.split(separator: ",").count, lambdaValues.allSatisfy({ $0 >= 0 }) else {
        throw ValidationError("--lambdas must be non-negative numbers.")
      }
      guard !mixValues.isEmpty, mixValues.count == mixes.split(separator: ",").count, mixValues.allSatisfy({ $0 >= 0 && $0 <= 1 }) else {
        throw ValidationError("--mixes must be numbers in [0, 1].")
      }
      guard epsilon >= 0 else { throw ValidationError("--epsilon must be ≥ 0.") }
      guard evaluationImages >= 1, steps >= 1 else { throw ValidationError("--evaluation-images and --steps must be ≥ 1.") }
    }

    func run() throws {
      Console.announceRuntime()
      let source = try DataSource(parsing: data)
      let train = try source.load(split: .train, limit: training.limit)
      let test = try source.load(split: .test, channels: train.imageShape[0])
      let (cSpec, cState) = try PixelRobustCommand.classifierSpec(path: prm.classifier, arch: prm.arch, train: train)
      let (h, w) = (train.imageShape[1], train.imageShape[2])
      let sweep = PRMSweep(lambdas: lambdaValues, mixes: mixValues, designated: try designation.designated(height: h, width: w),
                           width: prm.width, depth: prm.depth, settings: training.settings(data: data), classifier: cSpec,
                           classifierState: cState, freezeClassifier: prm.freezeClassifier, reconstructionWeight: prm.reconstruction,
                           evaluationImages: evaluationImages, attackEpsilon: epsilon, attackSteps: steps,
                           attackStepSize: Swift.max(epsilon / 4, 1e-4))
      let folder = URL(cliPath: output)
      let bar = Console.ProgressBar()
      let (rows, maps) = try sweep.run(train: train, test: test, folder: folder, progress: { Console.note($0) }, batchProgress: { p in
        bar.update(label: "  epoch \(p.epoch)", done: p.batch, total: p.batches,
                   detail: String(format: "loss %.4f, %.0f images/s", p.runningLoss, p.imagesPerSecond))
      })
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try AtomicFile.write(encoder.encode(rows), to: folder.appendingPathComponent("iou_report.json"))
      let md = sweep.markdown(rows, data: train.name)
      try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("iou_report.md"))
      try sweep.heatmapGrid(rows, maps: maps, height: h, width: w).write(to: folder.appendingPathComponent("heatmaps.png"))
      print(md)
    }
  }

  struct PRMDefendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "defend",
      abstract: "Build a randomized defense: the PRM switch over several PRM models, or random resize-and-pad in front of a classifier.",
      discussion: "The result is a randomized model: attack it with `pixelrobust attack --eot N --classify R --seeds S`.")

    @Option(help: "PRM-defended checkpoints to switch between, comma-separated.")
    var modules: String?
    @Option(help: "PRMs applied in sequence per forward pass.")
    var chain = 1
    @Option(help: "Instead: random resize-and-pad in front of this classifier checkpoint.")
    var resizePad: String?
    @Option(help: "Smallest size drawn by random resize-and-pad (default 7/8 of the image).")
    var minSize: Int?
    @Option(help: "Seed of the defense's random draws.")
    var seed: UInt64 = 0
    @Option(help: "Output checkpoint (.safetensors).")
    var output: String

    func validate() throws {
      guard (modules == nil) != (resizePad == nil) else { throw ValidationError("give either --modules or --resize-pad.") }
      guard chain >= 1 else { throw ValidationError("--chain must be at least 1.") }
    }

    func run() throws {
      Console.announceRuntime()
      let spec: ModelSpec, state: [String: Tensor]
      if let modules {
        let models = try modules.split(separator: ",").map { try loadCheckpoint(String($0)).model }
        guard models.allSatisfy({ $0.prm != nil }) else { throw ValidationError("every --modules checkpoint must be PRM-defended.") }
        (spec, state) = try PRMModels.switching(models, chain: chain, seed: seed)
      } else {
        let classifier = try loadCheckpoint(resizePad!).model
        (spec, state) = try PRMModels.resizePad(classifier, minimumSize: minSize, seed: seed)
      }
      let model = try Model(spec: spec, seed: 0, builder: modelBuilder)
      try model.loadState(state, source: "defended modules")
      try Checkpoint.save(model, to: URL(cliPath: output), metadata: ["pixelrobust.randomized": "true"])
      print("wrote \(output): a randomized model (\(model.parameterCount) weights)")
    }
  }
}
