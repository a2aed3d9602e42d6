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
      abstract: "Attack a checkpoint (FGSM or PGD, L∞ or L2, optionally masked) and report robust accuracy with guards.",
      discussion: """
        Masks: --mask top:K / bottom:K / random:K[@SEED] (K % of the pixels of --map G.npy), \
        --mask pattern:v0[@DY,DX] (PRM patterns v0–v5), or --mask FILE.png (white pixels may change). \
        Off the mask the perturbation is exactly zero.
        """)

    @Option(help: "Model checkpoint (.safetensors).")
    var model: String
    @OptionGroup var data: DataOptions
    @OptionGroup var options: AttackOptions
    @Option(help: "Pixel mask: top:K, bottom:K, random:K[@SEED], pattern:vN[@DY,DX] or FILE.png.")
    var mask: String?
    @Option(help: "Gradient map (G.npy from gradient-map) for ranked masks.")
    var map: String?
    @Option(help: "Write example grids (clean | perturbation | adversarial) and x_adv.npy here.")
    var saveExamples: String?
    @Option(help: "Write the report as JSON.")
    var json: String?
    @Option(help: "Repeat the whole attack with this many seeds and report mean ± std (randomized defenses).")
    var seeds = 1
    @Option(help: "Undefended classifier to compute the defense rate against (attacked without EOT).")
    var baseline: String?

    func validate() throws {
      guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1.") }
      if let mask {
        let spec: MaskSpecification
        do { spec = try MaskSpecification(parsing: mask) } catch { throw ValidationError("\(error).") }
        if spec.needsMap && map == nil { throw ValidationError("--mask \(mask) ranks pixels of a gradient map: add --map G.npy.") }
      }
    }

    func run() throws {
      Console.announceRuntime()
      let (net, dataset) = try loadModelAndData(model, data)
      let (c, h, w) = (dataset.imageShape[0], dataset.imageShape[1], dataset.imageShape[2])
      var maskTensor: Tensor?
      if let mask {
        let mapTensor = try map.map { try NumPy.read(from: URL(cliPath: $0)) }
        let pixels = try MaskSpecification(parsing: mask, defaultSeed: options.seed).resolve(height: h, width: w, map: mapTensor)
        Console.note("mask \(mask): \(pixels)")
        maskTensor = pixels.tensor(channels: c)
      }
      let attack = try options.makeAttack()
      if seeds > 1 || baseline != nil {
        try runDefenseEvaluation(net, dataset: dataset, mask: maskTensor, attack: attack)
        return
      }
      var saved = Set<Float>()
      let examplesFolder = saveExamples.map { URL(cliPath: $0) }
      let report = try AttackReport.evaluate(
        attack, model: net, modelName: model, data: dataset, norm: options.norm.value, epsilons: options.epsilons,
        mask: maskTensor, targeted: options.targeted, runner: options.runner,
        progress: { Console.note($0) },
        onBatch: { eps, x, xAdv, y in
          guard let folder = examplesFolder, !saved.contains(eps) else { return }
          saved.insert(eps)
          let (p0, p1) = withoutGradients { (net.logits(x).argmax(alongAxis: 1), net.logits(xAdv).argmax(alongAxis: 1)) }
          do {
            try ExampleGrid.render(clean: x, adversarial: xAdv, labels: y, cleanPredictions: p0, adversarialPredictions: p1,
                                   epsilon: eps, title: "\(attack.name) eps=\(eps)\(mask.map { " mask " + $0 } ?? "")")
              .write(to: folder.appendingPathComponent("examples_eps\(eps).png"))
            try NumPy.write(xAdv, to: folder.appendingPathComponent("x_adv_eps\(eps).npy"))
          } catch { Console.note("could not save examples: \(error)") }
        })
      print(report.markdown)
      if let json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(report), to: URL(cliPath: json))
      }
    }

    func runDefenseEvaluation(_ net: Model, dataset: Dataset, mask: Tensor?, attack: any BoundedAttack) throws {
      let evaluation = try DefenseEvaluation.aggregate(
        model: model, baseline: baseline, seeds: seeds, classifications: options.classify,
        report: { seed in
          var runner = options.runner
          runner.seed = options.seed &+ seed
          Console.note("seed \(runner.seed)")
          return try AttackReport.evaluate(attack, model: net, modelName: model, data: dataset, norm: options.norm.value,
                                           epsilons: options.epsilons, mask: mask, targeted: options.targeted, runner: runner,
                                           progress: { Console.note("  " + $0) })
        },
        baselineReport: baseline.map { path in {
          let (base, _) = try loadCheckpoint(path)
          var plain = options
          plain.eot = 1
          plain.classify = 1
          Console.note("baseline \(path)")
          return try AttackReport.evaluate(try plain.makeAttack(), model: base, modelName: path, data: dataset,
                                           norm: options.norm.value, epsilons: options.epsilons, mask: mask,
                                           targeted: options.targeted, runner: plain.runner, progress: { Console.note("  " + $0) })
        } })
      print(evaluation.markdown)
      if let json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(evaluation), to: URL(cliPath: json))
      }
    }
  }
}
