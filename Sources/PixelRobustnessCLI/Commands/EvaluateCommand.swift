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

    @Option(help: "Model checkpoint (.safetensors).")
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: "Batch size for inference.")
    var batchSize = 256
    @Option(help: "Write the report as JSON to this file.")
    var json: String?
    @Option(help: "Write the logits [N, classes] as a NumPy .npy file.")
    var logits: String?

    func validate() throws {
      guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    }

    func run() throws {
      Console.announceRuntime()
      let (net, dataset) = try loadModelAndData(model, data)
      let (report, values) = evaluate(net, on: dataset, batchSize: batchSize)
      print(report.summary)
      if let json {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(report), to: URL(cliPath: json))
      }
      if let logits { try NumPy.write(values, to: URL(cliPath: logits)) }
    }
  }
}
