import ArgumentParser
import Foundation
import PixelAnalysis

extension PixelRobustCommand {
  /// `pixelrobust saliency-grid`: input gradients and FGSM examples of several models, side by side.
  struct SaliencyGridCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "saliency-grid",
      abstract: "For the same test images, each model's signed input gradient and its FGSM example, one row per model (a PNG).")

    @Option(help: "Model checkpoints, comma-separated, one row each.")
    var models: CommaList<String>
    @OptionGroup var data: DataOptions
    @Option(help: "The FGSM budget ε in [0, 1].")
    var epsilon: Float = 0.1
    @Option(help: "Output PNG file.")
    var output: String

    func validate() throws {
      guard epsilon >= 0, epsilon <= 1 else { throw ValidationError("--epsilon must be in [0, 1].") }
      guard (data.limit ?? 8) <= 16 else { throw ValidationError("a saliency grid shows at most 16 images: use --limit ≤ 16.") }
    }

    func run() throws {
      var check = OutputCheck(files: [output], inputs: models.values)
      check.reading(data: data.data)
      try check.run()
      let loaded = try models.values.map { (name: $0, model: try loadCheckpoint($0).model) }
      var options = data
      options.limit = data.limit ?? 8
      let dataset = try options.load(channels: loaded[0].model.spec.input.first)
      for (name, m) in loaded {
        guard m.spec.input == dataset.imageShape else {
          throw ValidationError("\(name) expects inputs \(m.spec.input), \(dataset.name) has \(dataset.imageShape)")
        }
        try dataset.checkLabels(classes: m.spec.classes)
      }
      try SaliencyGrid.render(models: loaded, images: dataset.images, labels: dataset.labels, epsilon: epsilon)
        .write(to: URL(cliPath: output))
      print("wrote \(output): \(loaded.count) models × \(dataset.count) images")
    }
  }
}
