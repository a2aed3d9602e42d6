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
      let (net, _) = try Checkpoint.load(from: URL(cliPath: model))
      let dataset = try data.load(channels: net.spec.input.first)
      guard dataset.imageShape == net.spec.input else {
        throw ValidationError("the model expects inputs \(net.spec.input), \(dataset.name) has \(dataset.imageShape)")
      }
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
