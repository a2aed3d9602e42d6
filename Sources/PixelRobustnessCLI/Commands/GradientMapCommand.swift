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
        + "folders with `pixelrobust merge-maps`.")

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: "Differentiate the loss or the predicted-class logit.")
    var target: TargetChoice = .loss
    @Option(help: "Process only shard i of n (contiguous parts), as i/n.")
    var shard: String?
    @OptionGroup var rendering: MapRenderingOptions
    @Option(help: ArgumentHelp(SharedHelp.batchSize))
    var batchSize = 256
    @Option(help: "Output folder (G.npy, G_mean.npy, partial.safetensors, summary.json, PNGs).")
    var output: String

    func validate() throws {
      if let shard { do { _ = try InputGradientMap.Shard(parsing: shard) } catch { throw ValidationError("\(error).") } }
      guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    }

    func run() throws {
      try OutputCheck.startFolderJob(output: output, inputs: [model], data: data.data)
      let (net, dataset) = try loadModelAndData(model, data)
      let job = GradientMapJob(target: target.value, batchSize: batchSize, shard: try shard.map { try InputGradientMap.Shard(parsing: $0) },
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

  /// `pixelrobust merge-maps`: combine shard folders of `gradient-map`.
  struct MergeMapsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "merge-maps",
      abstract: "Merge gradient-map shards (their partial.safetensors sums) into the map one unsharded run writes.",
      discussion: "Refuses shards of different models, data sets, targets or batch sizes, a repeated shard and a missing one.")

    @Option(help: "Shard output folders, comma-separated.")
    var inputs: CommaList<String>
    @OptionGroup var rendering: MapRenderingOptions
    @Option(help: "Output folder.")
    var output: String

    func run() throws {
      try OutputCheck(folders: [output], inputs: inputs.values).run()
      let folders = inputs.values.map { URL(cliPath: $0) }
      let (acc, _, files) = try GradientMapJob.merge(folders, into: rendering.outputs(folder: output))
      print("merged \(folders.count) shards, \(acc.count) images; wrote " + files.joined(separator: ", "))
    }
  }
}

enum TargetChoice: String, ExpressibleByArgument, CaseIterable {
  case loss, logit
  var value: GradientTarget { self == .loss ? .loss : .logit }
}
