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
      commandName: "evaluate", abstract: "Evaluate a checkpoint: accuracy, per-class accuracy, confusion matrix.")

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: ArgumentHelp(SharedHelp.batchSize))
    var batchSize = 256
    @Option(help: "File to write the report to as JSON.")
    var json: String?
    @Option(help: "File to write the logits [N, classes] to as NumPy .npy.")
    var logits: String?

    func validate() throws {
      guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    }

    func run() throws {
      var check = OutputCheck(files: [json, logits].compactMap { $0 }, inputs: [model])
      check.reading(data: data.data)
      try check.run()
      Console.announceRuntime()
      let (net, dataset) = try loadModelAndData(model, data)
      let meter = Console.ImageMeter("evaluate")
      let (report, values) = evaluate(net, on: dataset, batchSize: batchSize, progress: meter.update)
      Console.note(meter.summary)
      print(report.summary)
      if let json { try AtomicFile.writeJSON(report, to: URL(cliPath: json)) }
      if let logits { try NumPy.write(values, to: URL(cliPath: logits)) }
      let bad = values.scalars.filter { !$0.isFinite }.count
      if bad > 0 {
        throw NonFiniteResults(description: "\(bad) logits are NaN or infinite: the accuracy and loss above are not meaningful")
      }
    }
  }
}
