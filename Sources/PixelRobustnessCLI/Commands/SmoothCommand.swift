import ArgumentParser
import Foundation
import PixelAnalysis
import PixelDefenses
import PixelNN
import PixelTensor

extension PixelRobustCommand {
  /// `pixelrobust smooth`: randomized smoothing (Nemcovsky et al.; Cohen et al.).
  struct SmoothCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "smooth",
      abstract: "Randomized smoothing: smoothed prediction (vote, soft, weighted) and certified L2 radii (Cohen et al.).",
      subcommands: [SmoothPredictCommand.self, SmoothCertifyCommand.self, SmoothAttackCommand.self, SmoothWrapCommand.self])
  }

  /// The options both smoothing commands share.
  struct SmoothingOptions: ParsableArguments {
    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: "Noise σ in pixel units, comma-separated to run several (one CSV and one line each).")
    var sigma = CommaList<Double>([0.25])
    @Option(help: "Level α of the abstention test (predict; 1 never abstains) or of the lower confidence bound (certify).")
    var alpha = 0.001
    /// With a mask, the noise covers only its pixels, and so does the certificate.
    @OptionGroup var masking: MaskOptions
    @Option(help: "Masked sweep: percentages k, comma-separated; runs the whole image and, per k, the --kinds masks of --map (noise and guarantee on those pixels only).")
    var fractions: CommaList<Double>?
    @Option(help: "Masked sweep: mask kinds, comma-separated: top, bottom, random (random masks are seeded by --seed).")
    var kinds = CommaList<MaskKindChoice>([.top, .bottom, .random])
    @Option(help: "Radii of the summary table's certified-accuracy columns, comma-separated, in pixel units.")
    var radii = CommaList<Double>([0.25, 0.5, 1.0])
    @Option(help: "Noisy images per forward pass (the memory cap).")
    var sampleBatch = 1024
    @Option(help: ArgumentHelp(SharedHelp.batchSize))
    var batchSize = 16
    @Option(help: "Seed of the noise.")
    var seed: UInt64 = 0
    @Option(help: "Output folder.")
    var output: String
    @Flag(help: "Continue the job recorded in the output folder's journal.json (same settings, model and data), if there is one.")
    var resume = false
    @OptionGroup var sharding: ShardOptions

    func validate() throws {
      guard !sigma.values.isEmpty else { throw ValidationError("give at least one --sigma.") }
      guard radii.values.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw ValidationError("--radii must be finite and non-negative.") }
      guard let fractions else { return }
      if masking.mask != nil { throw ValidationError("--fractions sweeps masks itself: drop --mask.") }
      guard !fractions.values.isEmpty, fractions.values.allSatisfy({ $0 > 0 && $0 <= 100 }) else {
        throw ValidationError("--fractions must be percentages in (0, 100].")
      }
      guard !kinds.values.isEmpty else { throw ValidationError("give at least one mask kind in --kinds.") }
      if masking.map == nil && kinds.values.contains(where: { $0 != .random }) {
        throw ValidationError("--kinds top and bottom rank pixels of a gradient map: add --map G.npy.")
      }
    }

    /// Rejects settings with a problem at any σ.
    func check(_ settings: (Double) -> CertificationRun.Settings) throws {
      for s in sigma.values { if let problem = settings(s).problem { throw ValidationError(problem + ".") } }
    }

    /// The noise regions: the mask of --mask, or the whole image and every kind at every k of
    /// --fractions, or the whole image alone.
    func regions(channels c: Int, height h: Int, width w: Int) throws -> [CertificationJob.Region] {
      guard let fractions else {
        let pixels = try masking.resolve(height: h, width: w, seed: seed, announcing: "noise only on mask")
        return [CertificationJob.Region(label: masking.mask, mask: pixels?.tensor(channels: c))]
      }
      var out = [CertificationJob.Region(label: "whole", mask: nil)]
      for k in fractions.values {
        for kind in kinds.values {
          let spec: MaskSpecification = switch kind {
          case .top: .top(k)
          case .bottom: .bottom(k)
          case .random: .random(k, seed: seed)
          }
          let pixels = try spec.resolve(height: h, width: w, mapFile: masking.map.map(URL.init(cliPath:)))
          out.append(CertificationJob.Region(label: spec.description, mask: pixels.tensor(channels: c)))
        }
      }
      return out
    }

    /// Loads the model, data and masks, runs `settings(σ)` for every σ and region and writes the folder.
    func run(_ kind: CertificationRun.Kind, settings: (Double) -> CertificationRun.Settings) throws {
      try OutputCheck.startFolderJob(output: output, inputs: [model, masking.map].compactMap { $0 }, data: data.data)
      let (net, dataset) = try loadModelAndData(model, data)
      let (c, h, w) = (dataset.imageShape[0], dataset.imageShape[1], dataset.imageShape[2])
      let regions = try regions(channels: c, height: h, width: w)
      let job = CertificationJob(runs: sigma.values.flatMap { s in regions.map { (settings(s), $0) } }, model: net, modelName: model,
                                 data: dataset, output: URL(cliPath: output), identity: ["model_hash": Checkpoint.contentHash(of: net)],
                                 radii: radii.values, shard: try sharding.value())
      let meter = Console.ImageMeter("smooth \(kind.rawValue)")
      print(try job.run(resume: resume, note: { Console.note($0) }, progress: meter.update))
      Console.note(meter.summary)
    }
  }

  struct SmoothPredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "predict",
      abstract: "Smoothed prediction: vote with Cohen et al.'s abstention test, or Nemcovsky et al.'s soft / weighted votes.",
      discussion: "Writes predict_sigma<σ>.csv (index,label,prediction,p_lower,radius,abstained,seconds), summary.json and summary.md.")

    @OptionGroup var options: SmoothingOptions
    @Option(help: "Noisy draws per image.")
    var samples = 100
    @Option(help: "Aggregation: vote (majority, abstains by a binomial test), soft (mean logits), weighted (rank r adds 2^-r) or probability (mean softmax).")
    var mode: SmoothingModeChoice = .vote

    func settings(_ s: Double) -> CertificationRun.Settings {
      CertificationRun.Settings(kind: .predict, sigma: s, mode: mode.value, samples: samples, alpha: options.alpha,
                                sampleBatch: options.sampleBatch, batchSize: options.batchSize, seed: options.seed)
    }

    func validate() throws { try options.check(settings) }

    func run() throws { try options.run(.predict, settings: settings) }
  }

  struct SmoothCertifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "certify",
      abstract: "Certified L2 radii (Cohen et al.'s CERTIFY): n₀ selection draws, n estimation draws, Clopper–Pearson at α.",
      discussion: """
        Writes certify_sigma<σ>.csv (index,label,prediction,p_lower,radius,abstained,seconds), summary.json, \
        summary.md and certified.png (certified accuracy against radius, one line per σ). With --mask the noise \
        and the guarantee cover the masked pixels only: the radius holds for perturbations that change \
        nothing else.
        """)

    @OptionGroup var options: SmoothingOptions
    @Option(help: "Estimation draws n per image.")
    var samples = 10_000
    @Option(help: "Selection draws n₀ per image.")
    var selectionSamples = 100

    func settings(_ s: Double) -> CertificationRun.Settings {
      CertificationRun.Settings(kind: .certify, sigma: s, samples: samples, selectionSamples: selectionSamples,
                                alpha: options.alpha, sampleBatch: options.sampleBatch, batchSize: options.batchSize,
                                seed: options.seed)
    }

    func validate() throws { try options.check(settings) }

    func run() throws { try options.run(.certify, settings: settings) }
  }
}

extension PixelRobustCommand {
  struct SmoothWrapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "wrap",
      abstract: "Write the smoothed classifier as a checkpoint that evaluate, attack (--eot) and transfer accept.",
      discussion: """
        Every forward pass classifies --samples noisy copies per image. Modes probability and soft are         differentiable (attack them with --eot N: EOT-PGD over fresh noise); vote and weighted give         attacks no gradient. Attack with small --batch-size: memory grows with batch × samples.
        """)

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @Option(help: "Noise σ in pixel units.")
    var sigma = 0.25
    @Option(help: "Noisy draws per image and forward pass.")
    var samples = 32
    @Option(help: "Aggregation: probability (log mean softmax), soft (mean logits), vote or weighted.")
    var mode: SmoothingModeChoice = .probability
    @Option(help: "Noise: gaussian (σ = --sigma, unclipped) or uniform (the cube of half-width --sigma, clipped to [0, 1]: Cao & Gong's region-based classification, e.g. --sigma 0.02 --samples 1000 --mode vote).")
    var noise: NoiseChoice = .gaussian
    @Option(help: "Seed of the noise.")
    var seed: UInt64 = 0
    @Option(help: "Output checkpoint.")
    var output: String

    func validate() throws {
      guard sigma.isFinite, sigma > 0, sigma <= 10 else { throw ValidationError("--sigma must lie in (0, 10] pixel units.") }
      guard (1...65_536).contains(samples) else { throw ValidationError("--samples must lie in 1…65536.") }
    }

    func run() throws {
      try OutputCheck(files: [output], inputs: [model]).run()
      let (spec, state) = try RandomizedSmoothing.wrap(try loadCheckpoint(model).model, sigma: sigma, samples: samples,
                                                       mode: mode.value, noise: noise.value, seed: seed)
      let smoothed = try Model(spec: spec, seed: 0, builder: modelBuilder)
      try smoothed.loadState(state, source: model)
      try Checkpoint.save(smoothed, to: URL(cliPath: output), metadata: ["pixelrobust.randomized": "true"])
      print("wrote \(output): \(model) smoothed with \(noise == .gaussian ? "σ" : "uniform noise of half-width") \(sigma), "
            + "\(samples) draws per pass, \(mode.rawValue) aggregation")
    }
  }
}

extension PixelRobustCommand {
  struct SmoothAttackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "attack",
      abstract: "Smoothed inference under attack (Nemcovsky et al.): base and smoothed accuracy on clean, transfer-PGD and adaptive EPGD images.",
      discussion: """
        Transfer examples are L∞ PGD on the base model; EPGD attacks the smoothed classifier itself with \
        --attack-samples fresh noise draws per step. Smoothed accuracies are re-measured --evaluations times \
        (mean ± std). Writes report.json and report.md; warns when the adaptive attack does worse than the transfer one.
        """)

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: "Noise σ in pixel units.")
    var sigma = 0.25
    @Option(help: "Noisy draws per smoothed prediction.")
    var samples = 32
    @Option(help: "Smoothed classifiers to evaluate, comma-separated: vote, soft, weighted, probability.")
    var modes = CommaList<SmoothingModeChoice>([.vote, .soft, .probability])
    @Option(help: "L∞ budget ε in pixel units.")
    var epsilon = 0.1
    @Option(help: "PGD steps (both attacks).")
    var steps = 20
    @Option(help: "PGD step in pixel units (default ε/10).")
    var stepSize: Double?
    @Option(help: "EPGD: noise draws per step.")
    var attackSamples = 32
    @Option(help: "EPGD's loss: probability (CE of log mean softmax over the draws) or expectation (mean of the draws' CE gradients).")
    var attackLoss: AttackLossChoice = .probability
    @Option(help: "Re-measurements of each smoothed accuracy with fresh noise.")
    var evaluations = 3
    @Option(help: ArgumentHelp(SharedHelp.batchSize))
    var batchSize = 16
    @Option(help: "Noisy images per forward pass (the memory cap).")
    var sampleBatch = 1024
    @Option(help: "Seed of the attacks' random starts and the noise.")
    var seed: UInt64 = 0
    @Option(help: "Output folder.")
    var output: String

    var settings: SmoothedAttackEvaluation.Settings {
      SmoothedAttackEvaluation.Settings(sigma: sigma, samples: samples, modes: modes.values.map(\.value), epsilon: epsilon, steps: steps,
                                        stepSize: stepSize ?? epsilon / 10, attackSamples: attackSamples,
                                        attackLoss: attackLoss.value, evaluations: evaluations, batchSize: batchSize,
                                        sampleBatch: sampleBatch, seed: seed)
    }

    func validate() throws {
      if epsilon == 0 && stepSize == nil { throw ValidationError("at ε = 0 give --step-size (the default is ε/10).") }
      if let problem = settings.problem { throw ValidationError(problem + ".") }
    }

    func run() throws {
      try OutputCheck.startFolderJob(output: output, inputs: [model], data: data.data)
      let (net, dataset) = try loadModelAndData(model, data)
      let meter = Console.ImageMeter("smooth attack")
      let report = try SmoothedAttackEvaluation.run(settings, model: net, modelName: model, data: dataset, progress: meter.update)
      Console.note(meter.summary)
      try report.write(to: URL(cliPath: output), identity: ["model": model, "model_hash": Checkpoint.contentHash(of: net),
                                                           "data": dataset.name])
      print(report.markdown())
    }
  }
}

enum NoiseChoice: String, ExpressibleByArgument, CaseIterable {
  case gaussian, uniform
  var value: SmoothingLayer.Noise { SmoothingLayer.Noise(rawValue: rawValue)! }
}

enum AttackLossChoice: String, ExpressibleByArgument, CaseIterable {
  case probability, expectation
  var value: SmoothedAttackEvaluation.AttackLoss { SmoothedAttackEvaluation.AttackLoss(rawValue: rawValue)! }
}

enum SmoothingModeChoice: String, ExpressibleByArgument, CaseIterable, CustomStringConvertible {
  case vote, soft, weighted, probability
  var description: String { rawValue }
  var value: RandomizedSmoothing.Mode { RandomizedSmoothing.Mode(rawValue: rawValue)! }
}
