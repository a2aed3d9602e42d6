import ArgumentParser
import Foundation
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelDefenses
import PixelNN
import PixelTensor

extension PixelRobustCommand {
  /// `pixelrobust attack`: robust accuracy under FGSM or PGD, optionally restricted to a pixel mask.
  struct AttackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "attack",
      abstract: "Attack a checkpoint (FGSM, PGD, APGD, Square, one-pixel, DeepFool, C&W, JSMA; optionally masked) and report robust accuracy with guards.",
      discussion: """
        Masks: --mask top:K / bottom:K (K % of the pixels of --map G.npy), random:K[@SEED], \
        --mask pattern:v0[@DY,DX] (PRM patterns v0–v5), or --mask FILE.png (white pixels may change). \
        Off the mask the perturbation is exactly zero. With --repeats or --baseline the attack runs \
        as a defense evaluation: repeated with seeds seed, seed+1, …, reported as mean ± std with \
        the defense rate against the baseline. Minimal attacks (deepfool, cw, jsma) report per \
        example the smallest perturbation that fooled the model and the accuracy-versus-ε curve it \
        implies; --output writes report.json, report.md, curve.csv, norms.csv and curve.png. \
        --ensemble runs bounded attacks as one worst case and reports each member too. Bounded attacks \
        with --output DIR write report.json, report.md and outcomes.json (every example's outcome); \
        with --shard i/n the folder holds one part, and `pixelrobust merge` combines the parts into \
        the folder one run writes.
        """)

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @OptionGroup var data: DataOptions
    @OptionGroup var options: AttackOptions
    @OptionGroup var masking: MaskOptions
    @Option(help: "Folder for example grids (clean | perturbation | adversarial) and x_adv_eps<ε>.npy.")
    var saveExamples: String?
    @Option(help: "File to write the report to as JSON.")
    var json: String?
    @Option(name: [.customLong("repeats"), .customLong("seeds")],
            help: "Repeat the whole attack this many times with seeds seed, seed+1, … and report mean ± std (randomized defenses); --seeds is the old spelling.")
    var repeats = 1
    @Option(help: "Undefended classifier checkpoint to compute the defense rate against (attacked without EOT).")
    var baseline: String?
    @Option(help: "Folder for report.json and report.md, with outcomes.json (bounded attacks; required with --shard) or curve.csv, norms.csv and curve.png (minimal attacks).")
    var output: String?
    @OptionGroup var sharding: ShardOptions

    var isMinimal: Bool { options.attack.value.isMinimal && options.ensemble.values.isEmpty }

    func validate() throws {
      guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1.") }
      if isMinimal && (repeats > 1 || baseline != nil) {
        throw ValidationError("--repeats and --baseline evaluate bounded attacks; \(options.attack.rawValue) is a minimal attack.")
      }
      if sharding.shard != nil {
        if output == nil { throw ValidationError("--shard writes its part into --output DIR: add it.") }
        if repeats > 1 || baseline != nil {
          throw ValidationError("--shard splits a single run: drop --repeats and --baseline.")
        }
      }
      if output != nil && !isMinimal && (repeats > 1 || baseline != nil) {
        throw ValidationError("--output holds a single run's report; a --repeats or --baseline evaluation writes --json.")
      }
    }

    func run() throws {
      var check = OutputCheck(files: [json].compactMap { $0 }, folders: [saveExamples, output].compactMap { $0 },
                              inputs: [model, masking.map, baseline].compactMap { $0 })
      check.reading(data: data.data)
      try check.run()
      Console.announceRuntime()
      let (net, dataset) = try loadModelAndData(model, data)
      let (c, h, w) = (dataset.imageShape[0], dataset.imageShape[1], dataset.imageShape[2])
      let pixels = try masking.resolve(height: h, width: w, seed: options.seed)
      let maskTensor = pixels?.tensor(channels: c)
      let settings = options.settings
      let meter = Console.ImageMeter("attack")
      if isMinimal {
        try runMinimal(settings, model: net, data: dataset, mask: maskTensor, meter: meter)
        return
      }
      if repeats > 1 || baseline != nil {
        let evaluation = try DefenseEvaluation.run(
          settings, model: net, modelName: model, data: dataset, mask: maskTensor, seeds: repeats,
          baseline: try baseline.map { (try loadCheckpoint($0).model, $0) }, progress: Console.note, imagesDone: meter.update)
        print(evaluation.markdown)
        Console.note(meter.summary)
        if let json { try AtomicFile.writeJSON(evaluation, to: URL(cliPath: json)) }
        return
      }
      let attacks = try settings.attacks()
      let examples = saveExamples.map {
        AdversarialExamples(folder: URL(cliPath: $0), model: net,
                            title: attacks.map(\.name).joined(separator: "+") + (masking.mask.map { " mask " + $0 } ?? ""))
      }
      let record: (Float, Tensor, Tensor, [Int]) -> Void = { examples?.record(epsilon: $0, clean: $1, adversarial: $2, labels: $3) }
      if let output {
        let job = AttackJob(settings: settings, mask: maskTensor, maskName: masking.mask, shard: try sharding.value())
        let report = try job.run(model: net, modelName: model, data: dataset, into: URL(cliPath: output), progress: Console.note,
                                 imagesDone: meter.update, onBatch: record)
        try examples?.finish()
        try finish(report, meter: meter)
        return
      }
      let report = try AttackReport.evaluate(
        attacks, model: net, modelName: model, data: dataset, norm: settings.norm, epsilons: settings.epsilons,
        mask: maskTensor, targeted: settings.targeted, runner: settings.runner, progress: Console.note,
        imagesDone: meter.update, onBatch: record)
      try examples?.finish()
      try finish(report, meter: meter)
    }

    /// Prints the report, writes --json and refuses results built on non-finite gradients.
    func finish(_ report: AttackReport, meter: Console.ImageMeter) throws {
      print(report.markdown)
      Console.note(meter.summary)
      if let json { try AtomicFile.writeJSON(report, to: URL(cliPath: json)) }
      if let bad = report.results.first(where: { $0.gradientHealth.nonFinite > 0 }) {
        throw NonFiniteResults(description: "\(bad.gradientHealth.nonFinite) of \(bad.gradientHealth.examples) inputs have NaN or "
                               + "infinite gradients: the robust accuracies above are not meaningful")
      }
    }

    /// A minimal attack: per-example sizes, the implied curve, its files.
    func runMinimal(_ settings: AttackSettings, model net: Model, data dataset: Dataset, mask maskTensor: Tensor?,
                    meter: Console.ImageMeter) throws {
      let attack = try settings.minimalAttack()
      let examples = saveExamples.map {
        AdversarialExamples(folder: URL(cliPath: $0), model: net, title: masking.mask.map { "mask " + $0 } ?? "")
      }
      let record: (String, Tensor, Tensor, [Int]) -> Void = { examples?.record(attack: $0, clean: $1, adversarial: $2, labels: $3) }
      let report: MinimalAttackReport
      if let output {
        report = try MinimalAttackJob(settings: settings, mask: maskTensor, maskName: masking.mask, shard: try sharding.value())
          .run(model: net, modelName: model, data: dataset, into: URL(cliPath: output), progress: Console.note,
               imagesDone: meter.update, onBatch: record)
      } else {
        report = MinimalAttackReport.evaluate(
          [attack], model: net, modelName: model, data: dataset, domain: try PixelDomain(mask: maskTensor),
          targeted: settings.targeted, runner: settings.minimalRunner, progress: Console.note, imagesDone: meter.update,
          onBatch: record)
      }
      print(report.markdown)
      Console.note(meter.summary)
      try examples?.finish()
      if let json { try AtomicFile.writeJSON(report, to: URL(cliPath: json)) }
    }
  }
}
