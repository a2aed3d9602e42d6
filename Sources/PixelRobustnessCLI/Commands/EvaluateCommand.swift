import ArgumentParser
import Foundation
import PixelData
import PixelNN
import PixelTensor
import PixelTraining

extension PixelRobustCommand {
  /// `pixelrobust evaluate`: accuracy, per-class accuracy and the confusion matrix.
  struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "evaluate", abstract: "Evaluate a checkpoint: accuracy, per-class accuracy, confusion matrix.",
      discussion: "--output writes report.json, report.md, logits.npy and outcomes.csv (index,label,prediction,loss); "
        + "with --shard i/n it holds one part, and `pixelrobust merge` combines the parts into the folder one run writes.")

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: ArgumentHelp(SharedHelp.batchSize))
    var batchSize = 256
    @Option(help: "File to write the report to as JSON.")
    var json: String?
    @Option(help: "File to write the logits [N, classes] to as NumPy .npy.")
    var logits: String?
    @Option(help: "Folder for report.json, report.md, logits.npy and outcomes.csv (required with --shard).")
    var output: String?
    @OptionGroup var sharding: ShardOptions

    func validate() throws {
      guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
      if sharding.shard != nil && output == nil { throw ValidationError("--shard writes its part into --output DIR: add it.") }
      if output != nil && (json != nil || logits != nil) {
        throw ValidationError("--output DIR holds report.json and logits.npy: drop --json and --logits.")
      }
    }

    func run() throws {
      var check = OutputCheck(files: [json, logits].compactMap { $0 }, folders: [output].compactMap { $0 }, inputs: [model])
      check.reading(data: data.data)
      try check.run()
      Console.announceRuntime()
      let (net, dataset) = try loadModelAndData(model, data)
      let meter = Console.ImageMeter("evaluate")
      if let output {
        let job = EvaluationJob(batchSize: batchSize, shard: try sharding.value())
        let (report, bad) = try job.run(model: net, modelName: model, data: dataset, into: URL(cliPath: output), progress: meter.update)
        Console.note(meter.summary)
        print(report.summary)
        try Self.refuse(nonFiniteLogits: bad)
        return
      }
      let (report, values) = evaluate(net, on: dataset, batchSize: batchSize, progress: meter.update)
      Console.note(meter.summary)
      print(report.summary)
      if let json { try AtomicFile.writeJSON(report, to: URL(cliPath: json)) }
      if let logits { try NumPy.write(values, to: URL(cliPath: logits)) }
      try Self.refuse(nonFiniteLogits: values.scalars.filter { !$0.isFinite }.count)
    }

    static func refuse(nonFiniteLogits bad: Int) throws {
      if bad > 0 {
        throw NonFiniteResults(description: "\(bad) logits are NaN or infinite: the accuracy and loss above are not meaningful")
      }
    }
  }
}
