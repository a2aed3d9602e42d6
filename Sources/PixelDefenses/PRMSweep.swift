import Foundation
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelImaging
import PixelMasks
import PixelNN
import PixelTensor
import PixelTraining

/// The λ (and α) sweep of the PRM: for each setting, train a PRM-defended model and report
/// clean accuracy, IoU(top-|D| pixels of Ḡ, D) beside its chance level, recall, the mean
/// off-designated gradient share S, and masked-PGD accuracy on D against an equally large set
/// off D — the table Hwang et al. show (accuracy and IoU against λ).
public struct PRMSweep {
  /// One setting's results (a row of `iou_report.json`; JSON keys are the property names).
  public struct Row: Codable, Sendable {
    /// One masked PGD setting: accuracy when the attack may change only D, or only an equally
    /// large set off D.
    public struct MaskedAttack: Codable, Sendable {
      /// JSON `epsilon`, `steps`: the L∞ budget in pixel units and the PGD steps.
      public var epsilon: Double
      public var steps: Int
      /// JSON `onDesignated`, `offDesignated`: robust accuracy in [0, 1].
      public var onDesignated: Double
      public var offDesignated: Double
    }

    /// JSON `lambda`, `mix`: λ of the steering loss and α of the PRM.
    public var lambda: Double
    public var mix: Double
    /// JSON `cleanAccuracy`: on the whole test split, in [0, 1].
    public var cleanAccuracy: Double
    /// JSON `iou`, `chanceIoU`, `recall`: IoU(top-|D| pixels of Ḡ, D), its value for a random
    /// set, and |top ∩ D| / |D|.
    public var iou: Double
    public var chanceIoU: Double
    public var recall: Double
    /// JSON `meanOffShare`: mean S(g), the share of input-gradient energy off D.
    public var meanOffShare: Double
    /// JSON `pgdOnDesignated`, `pgdOffDesignated`: the first masked attack's accuracies.
    public var pgdOnDesignated: Double
    public var pgdOffDesignated: Double
    /// JSON `maskedAttacks`: every ε × steps setting.
    public var maskedAttacks: [MaskedAttack]?
    /// JSON `evaluationImages`: test images used for the map, S and the attacks.
    public var evaluationImages: Int
    /// JSON `checkpoint`: the trained model's path.
    public var checkpoint: String
  }

  public var lambdas: [Float]
  public var mixes: [Float]
  public var designated: DesignatedPixels
  public var width: Int
  public var depth: Int
  public var settings: TrainingSettings
  public var classifier: ModelSpec
  /// Pretrained classifier weights; with `freezeClassifier` only the PRM trains.
  public var classifierState: [String: Tensor]
  public var freezeClassifier: Bool
  public var reconstructionWeight: Float
  /// Images of the test split used for the map, S and the attacks.
  public var evaluationImages: Int
  /// L∞ budgets and PGD step counts of the masked attacks (every combination is run).
  public var attackEpsilons: [Float]
  public var attackSteps: [Int]
  /// The PGD step size policy.
  public var attackStepSize: PGD.StepSize

  /// A sweep over `lambdas` × `mixes` of PRMs reading `designated`, in front of `classifier`.
  public init(lambdas: [Float], mixes: [Float], designated: DesignatedPixels, width: Int = 16, depth: Int = 2,
              settings: TrainingSettings, classifier: ModelSpec, classifierState: [String: Tensor] = [:],
              freezeClassifier: Bool = false, reconstructionWeight: Float = 0, evaluationImages: Int = 1000,
              attackEpsilons: [Float] = [0.1], attackSteps: [Int] = [10], attackStepSize: PGD.StepSize = .relative(0.25)) {
    self.lambdas = lambdas; self.mixes = mixes; self.designated = designated; self.width = width; self.depth = depth
    self.settings = settings; self.classifier = classifier; self.classifierState = classifierState
    self.freezeClassifier = freezeClassifier; self.reconstructionWeight = reconstructionWeight
    self.evaluationImages = evaluationImages; self.attackEpsilons = attackEpsilons; self.attackSteps = attackSteps
    self.attackStepSize = attackStepSize
  }

  /// A set as large as `d`, disjoint from it: the pattern shifted by half its period, or for
  /// an explicit mask a seeded random subset of its complement.
  public static func offSet(_ designated: DesignatedPixels, height: Int, width: Int, seed: UInt64) -> PixelMask {
    switch designated {
    case let .pattern(p, shift):
      return .pattern(p, height: height, width: width, shift: (shift.0 + p.stride.0 / 2, shift.1 + p.stride.1 / 2))
    case let .mask(m):
      var candidates = m.values.indices.filter { !m.values[$0] }
      var rng = SeededGenerator(seed: seed)
      candidates.shuffle(using: &rng)
      var v = [Bool](repeating: false, count: m.values.count)
      for i in candidates.prefix(m.count) { v[i] = true }
      return PixelMask(height: height, width: width, values: v)
    }
  }

  func folderName(lambda: Float, mix: Float) -> String { "lambda_\(lambda)_mix_\(mix)" }

  /// Trains (or reuses finished checkpoints) and evaluates every setting.
  public func run(train: Dataset, test: Dataset, folder: URL, progress: (String) -> Void = { _ in },
                  batchProgress: (BatchProgress) -> Void = { _ in }) throws -> (rows: [Row], maps: [Tensor]) {
    let (c, h, w) = (train.imageShape[0], train.imageShape[1], train.imageShape[2])
    let d = designated.mask(height: h, width: w)
    let off = Self.offSet(designated, height: h, width: w, seed: settings.seed)
    let evaluation = test.prefix(evaluationImages)
    var rows: [Row] = [], maps: [Tensor] = []
    for mix in mixes {
      for lambda in lambdas {
        let spec = try PRMModels.spec(classifier: classifier, designated: designated, width: width, depth: depth, mix: mix)
        let output = folder.appendingPathComponent(folderName(lambda: lambda, mix: mix)).appendingPathComponent("model.safetensors")
        let objective = PRMObjective(lambda: lambda, designated: d, channels: c, reconstructionWeight: reconstructionWeight)
        let job = TrainingJob(spec: spec, settings: settings, output: output, objective: objective,
                              metadata: ["pixelrobust.prm.lambda": "\(lambda)", "pixelrobust.prm.mix": "\(mix)"],
                              trainableLayer: freezeClassifier ? PRMModels.layerName : nil, initialState: classifierState,
                              builder: .withDefenses)
        let resume = FileManager.default.fileExists(atPath: output.path) && FileManager.default.fileExists(atPath: job.stateURL.path)
        progress("λ = \(lambda), α = \(mix): training\(resume ? " (resuming)" : "")")
        let model: Model
        do {
          model = try job.run(train: train, test: nil, resume: resume, progress: batchProgress).model
        } catch let error as TrainingJobError where resume {
          // A checkpoint from other settings (a changed recipe): train this setting afresh.
          progress("λ = \(lambda), α = \(mix): \(error); training from scratch")
          model = try job.run(train: train, test: nil, resume: false, progress: batchProgress).model
        }
        progress("λ = \(lambda), α = \(mix): evaluating on \(evaluation.count) images")
        rows.append(try evaluate(model, on: test, evaluation: evaluation, designated: d, off: off, lambda: lambda, mix: mix,
                                 checkpoint: output.path))
        maps.append(InputGradientMap.accumulate(model: model, data: evaluation).channelMean)
      }
    }
    return (rows, maps)
  }

  func evaluate(_ model: Model, on test: Dataset, evaluation: Dataset, designated d: PixelMask, off: PixelMask,
                lambda: Float, mix: Float, checkpoint: String) throws -> Row {
    let c = test.imageShape[0]
    let clean = PixelTraining.evaluate(model, on: test).report.accuracy
    let acc = InputGradientMap.accumulate(model: model, data: evaluation)
    let top = PixelMask.top(d.fraction * 100, of: acc.channelMean)
    let objective = PRMObjective(lambda: 0, designated: d, channels: c)
    var shareSum = 0.0
    model.withMode(.inference) {
      for (x, y) in MiniBatches(evaluation, batchSize: 256) {
        let g = InputGradientMap.gradients(model: model, images: x, labels: y, target: .loss)
        shareSum += withoutGradients { objective.offShare(g).scalars.reduce(0) { $0 + Double($1) } }
      }
    }
    let runner = AttackRunner(batchSize: 256, seed: settings.seed)
    var attacks: [Row.MaskedAttack] = []
    for epsilon in attackEpsilons {
      for steps in attackSteps {
        let pgd = try PGD(steps: steps, step: attackStepSize)
        let onD = runner.run(pgd, model: model, data: evaluation,
                             threat: try ThreatModel(norm: .lInfinity, epsilon: epsilon, mask: d.tensor(channels: c)))
        let offD = runner.run(pgd, model: model, data: evaluation,
                              threat: try ThreatModel(norm: .lInfinity, epsilon: epsilon, mask: off.tensor(channels: c)))
        attacks.append(Row.MaskedAttack(epsilon: epsilon.decimal, steps: steps,
                                        onDesignated: onD.robustAccuracy, offDesignated: offD.robustAccuracy))
      }
    }
    return Row(lambda: lambda.decimal, mix: mix.decimal, cleanAccuracy: clean,
               iou: top.intersectionOverUnion(d), chanceIoU: PixelMask.chanceIoU(d.fraction, d.fraction),
               recall: top.recall(of: d), meanOffShare: shareSum / Double(Swift.max(evaluation.count, 1)),
               pgdOnDesignated: attacks[0].onDesignated, pgdOffDesignated: attacks[0].offDesignated, maskedAttacks: attacks,
               evaluationImages: evaluation.count, checkpoint: checkpoint)
  }

  /// The report as Markdown.
  public func markdown(_ rows: [Row], data: String) -> String {
    let pct = { (v: Double) in String(format: "%.2f%%", v * 100) }
    let settingsList = rows.first?.maskedAttacks ?? []
    let attackColumns = settingsList.map { "PGD-\($0.steps) ε \($0.epsilon) on D | off D" }
    var lines = ["### PRM λ sweep on \(data)", "",
                 "Designated pixels: \(describe(designated)); encoder width \(width), depth \(depth); "
                 + "\(settings.epochs) epoch(s), \(settings.optimizer.rawValue) lr \(settings.learningRate), seed \(settings.seed)"
                 + (freezeClassifier ? "; PRM trained in front of a frozen classifier" : "; PRM and classifier trained together") + ".",
                 "IoU compares the top \(String(format: "%.0f", designated.mask(height: 28, width: 28).fraction * 100))% pixels of Ḡ with the designated set; "
                 + "masked PGD changes only the designated pixels (on D), or only an equally large set off them (off D).", "",
                 "| λ | α | clean acc | IoU | chance IoU | recall | mean S | " + attackColumns.joined(separator: " | ") + " |",
                 "|---|---|---|---|---|---|---|" + settingsList.map { _ in "---|---|" }.joined()]
    for r in rows {
      let cells = (r.maskedAttacks ?? []).map { "\(pct($0.onDesignated)) | \(pct($0.offDesignated))" }
      lines.append("| \(r.lambda) | \(r.mix) | \(pct(r.cleanAccuracy)) | " + String(format: "%.3f | %.3f | %.3f | %.3f", r.iou, r.chanceIoU, r.recall, r.meanOffShare)
                   + " | " + cells.joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes `iou_report.json`, `iou_report.md` and `heatmaps.png` into `folder`, then
  /// `manifest.json` naming them; returns the Markdown.
  @discardableResult
  public func write(_ rows: [Row], maps: [Tensor], data: String, height: Int, width: Int, to folder: URL) throws -> String {
    try AtomicFile.writeJSON(rows, to: folder.appendingPathComponent("iou_report.json"))
    let md = markdown(rows, data: data)
    try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("iou_report.md"))
    try heatmapGrid(rows, maps: maps, height: height, width: width).write(to: folder.appendingPathComponent("heatmaps.png"))
    try FolderManifest.write(folder: folder, files: ["iou_report.json", "iou_report.md", "heatmaps.png"],
                             identity: ["data": data, "settings": settings.jsonString(),
                                        "lambdas": lambdas.map { "\($0)" }.joined(separator: ","),
                                        "mixes": mixes.map { "\($0)" }.joined(separator: ",")])
    return md
  }

  func describe(_ d: DesignatedPixels) -> String {
    switch d {
    case let .pattern(p, s): return "pattern \(p.rawValue) shifted (\(s.0), \(s.1)), \(String(format: "%.0f", p.fraction * 100))% of the pixels"
    case let .mask(m): return "an explicit mask of \(m.count) pixels (\(String(format: "%.0f", m.fraction * 100))%)"
    }
  }

  /// Ḡ per setting with the designated pixels outlined, one colour scale per tile.
  public func heatmapGrid(_ rows: [Row], maps: [Tensor], height: Int, width: Int) -> Canvas {
    let d = designated.mask(height: height, width: width)
    // Large cells keep the one-pixel outlines thin next to the map's colours.
    let scale = Swift.max(1, 280 / Swift.max(height, width))
    let cells = zip(rows, maps).map { row, map -> (canvas: Canvas, caption: String) in
      var tile = Heatmap.tile(map, colormap: .inferno, scaling: .percentile(low: 1, high: 99), scale: scale).canvas
      Heatmap.outline(d.values, height: height, width: width, on: &tile, scale: scale, color: RGB(0, 150, 190))
      return (tile, "lambda \(row.lambda) a \(row.mix): IoU " + String(format: "%.2f", row.iou))
    }
    return Heatmap.grid(cells, columns: Swift.min(3, cells.count),
                        title: "mean |dCE/dx| per setting (1st-99th percentile scale); designated pixels outlined")
  }
}
