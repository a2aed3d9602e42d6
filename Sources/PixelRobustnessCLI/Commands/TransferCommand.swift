import ArgumentParser
import Foundation
import PixelAnalysis

extension PixelRobustCommand {
  /// `pixelrobust transfer`: the source × target matrix of transferred attacks.
  struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "transfer",
      abstract: "Craft adversarial examples on each model and classify them with every model: matrix.json/csv/md and matrix.png.",
      discussion: """
        The diagonal is each model's white-box robust accuracy (with its guarded report); off the \
        diagonal, how well examples transfer (Ross & Doshi-Velez 2018). Iterated TGSM as in the \
        paper: --attack pgd --targeted --steps 10 --epsilon 0.1.
        """)

    @Option(help: "Model checkpoints, comma-separated; each crafts and each classifies.")
    var models: CommaList<String>
    @OptionGroup var data: DataOptions
    @OptionGroup var options: AttackOptions
    @Option(help: "Output folder.")
    var output: String
    @OptionGroup var sharding: ShardOptions

    func validate() throws {
      guard models.values.count >= 2 else { throw ValidationError("--models needs at least two checkpoints.") }
      guard Set(models.values).count == models.values.count else { throw ValidationError("--models names a checkpoint twice.") }
      try options.requireOneBoundedAttack("transfer")
    }

    func run() throws {
      try OutputCheck.startFolderJob(output: output, inputs: models.values, data: data.data)
      // Tables name each model by its file name, or by the whole path where two file names clash.
      let short = models.values.map { URL(cliPath: $0).deletingPathExtension().lastPathComponent }
      let names = Set(short).count == short.count ? short : models.values
      let loaded = try zip(names, models.values).map { (name: $0, model: try loadCheckpoint($1).model) }
      let dataset = try data.load(channels: loaded[0].model.spec.input.first)
      for (name, m) in loaded {
        guard m.spec.input == dataset.imageShape else {
          throw ValidationError("\(name) expects inputs \(m.spec.input), \(dataset.name) has \(dataset.imageShape)")
        }
        try dataset.checkLabels(classes: m.spec.classes)
      }
      let meter = Console.ImageMeter("transfer")
      let markdown = try TransferJob(settings: options.settings, shard: try sharding.value())
        .run(models: loaded, data: dataset, into: URL(cliPath: output), progress: Console.note, imagesDone: meter.update)
      Console.note(meter.summary)
      print(markdown)
    }
  }
}
