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
      subcommands: [SmoothPredictCommand.self, SmoothCertifyCommand.self, SmoothWrapCommand.self])
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
    @Option(help: "Noisy images per forward pass (the memory cap).")
    var sampleBatch = 1024
    @Option(help: ArgumentHelp(SharedHelp.batchSize))
    var batchSize = 16
    @Option(help: "Seed of the noise.")
    var seed: UInt64 = 0
    @Option(help: "Output folder.")
    var output: String

    func validate() throws {
      guard !sigma.values.isEmpty else { throw ValidationError("give at least one --sigma.") }
    }

    /// Rejects settings with a problem at any σ.
    func check(_ settings: (Double) -> CertificationRun.Settings) throws {
      for s in sigma.values { if let problem = settings(s).problem { throw ValidationError(problem + ".") } }
    }

    /// Loads the model, data and mask, runs `settings(σ)` for every σ and writes the folder.
    func run(_ kind: CertificationRun.Kind, settings: (Double) -> CertificationRun.Settings) throws {
      var check = OutputCheck(folders: [output], inputs: [model, masking.map].compactMap { $0 })
      check.reading(data: data.data)
      try check.run()
      Console.announceRuntime()
      let (net, dataset) = try loadModelAndData(model, data)
      let (c, h, w) = (dataset.imageShape[0], dataset.imageShape[1], dataset.imageShape[2])
      let pixels = try masking.resolve(height: h, width: w, seed: seed, announcing: "noise only on mask")
      let meter = Console.ImageMeter("smooth \(kind.rawValue)")
      let runs = sigma.values.map { s in
        Console.note("σ = \(s)")
        return CertificationRun.run(settings(s), model: net, modelName: model, data: dataset, mask: pixels?.tensor(channels: c),
                                    progress: meter.update)
      }
      Console.note(meter.summary)
      print(try CertificationRun.write(runs, labels: masking.mask.map { m in runs.map { _ in m } },
                                       title: "\(kind.rawValue) on \(dataset.name) (\(dataset.count) images)",
                                       identity: ["model": model, "model_hash": Checkpoint.contentHash(of: net), "data": dataset.name],
                                       to: URL(cliPath: output)))
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
                                                       mode: mode.value, seed: seed)
      let smoothed = try Model(spec: spec, seed: 0, builder: modelBuilder)
      try smoothed.loadState(state, source: model)
      try Checkpoint.save(smoothed, to: URL(cliPath: output), metadata: ["pixelrobust.randomized": "true"])
      print("wrote \(output): \(model) smoothed with σ = \(sigma), \(samples) draws per pass, \(mode.rawValue) aggregation")
    }
  }
}

enum SmoothingModeChoice: String, ExpressibleByArgument, CaseIterable {
  case vote, soft, weighted, probability
  var value: RandomizedSmoothing.Mode { RandomizedSmoothing.Mode(rawValue: rawValue)! }
}
