import ArgumentParser
import Foundation
import PixelAnalysis

extension PixelRobustCommand {
  /// `pixelrobust gradient-map`: the dataset-mean absolute input gradient and its heatmaps.
  struct GradientMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "gradient-map",
      abstract: "Mean |∂CE/∂x| per pixel over a data set (Hwang et al. 2019): G.npy, summary.json, PNG heatmaps.",
      discussion: "With --shard i/n only the i-th of n contiguous parts is processed; combine the parts' "
        + "folders with `pixelrobust merge`.")

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: "Differentiate the loss or the predicted-class logit.")
    var target: TargetChoice = .loss
    @OptionGroup var sharding: ShardOptions
    @OptionGroup var rendering: MapRenderingOptions
    @Option(help: ArgumentHelp(SharedHelp.batchSize))
    var batchSize = 256
    @Option(help: "Output folder (G.npy, G_mean.npy, partial.safetensors, summary.json, PNGs).")
    var output: String

    func validate() throws {
      guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    }

    func run() throws {
      try OutputCheck.startFolderJob(output: output, inputs: [model], data: data.data)
      let (net, dataset) = try loadModelAndData(model, data)
      let job = GradientMapJob(target: target.value, batchSize: batchSize, shard: try sharding.value(),
                               outputs: rendering.outputs(folder: output))
      let meter = Console.ImageMeter("gradient map")
      let (summary, files) = try job.run(model: net, modelName: model, data: dataset, progress: meter.update)
      Console.note(meter.summary)
      print(String(format: "%d images: G in [%.3g, %.3g], top 10%% of pixels hold %.1f%% of the mass, mean ‖∇ₓCE‖₂ %.4g",
                   summary.images, summary.minimum, summary.maximum, (summary.topMassShare["10"] ?? 0) * 100,
                   summary.meanGradientL2Norm ?? .nan))
      print("wrote " + files.map { output + "/" + $0 }.joined(separator: ", "))
      if summary.nonFiniteGradientImages > 0 {
        throw NonFiniteResults(description: "\(summary.nonFiniteGradientImages) images had NaN or infinite gradients and were left "
                               + "out of the map (summary.json counts them)")
      }
    }
  }
}

enum TargetChoice: String, ExpressibleByArgument, CaseIterable {
  case loss, logit
  var value: GradientTarget { self == .loss ? .loss : .logit }
}
