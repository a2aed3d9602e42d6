import ArgumentParser
import Foundation
import PixelAnalysis
import PixelData
import PixelImaging
import PixelNN
import PixelTensor

extension PixelRobustCommand {
  /// `pixelrobust gradient-map`: the dataset-mean absolute input gradient and its heatmaps.
  struct GradientMapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "gradient-map",
      abstract: "Mean |∂CE/∂x| per pixel over a data set (Hwang et al. 2019): G.npy, summary.json, PNG heatmaps.",
      discussion: "With --shard i/n only the i-th of n contiguous parts is processed; combine the parts' "
        + "folders with `pixelrobust merge-maps`.")

    @Option(help: "Model checkpoint (.safetensors).")
    var model: String
    @OptionGroup var data: DataOptions
    @Flag(help: "Also write per-class maps and their grid.")
    var perClass = false
    @Flag(help: "Also write the signed mean gradient.")
    var signed = false
    @Option(help: "Differentiate the loss or the predicted-class logit.")
    var target: TargetChoice = .loss
    @Option(help: "Process only shard i of n (contiguous parts), as i/n.")
    var shard: String?
    @Option(help: "Colour map: viridis, inferno, magma or gray.")
    var colormap: ColormapChoice = .viridis
    @Option(help: "Heatmap scaling: linear, or percentile to clip outliers (1st–99th).")
    var scaling: ScalingChoice = .linear
    @Option(help: "Batch size.")
    var batchSize = 256
    @Option(help: "Output folder.")
    var output: String

    func validate() throws {
      if let shard { do { _ = try InputGradientMap.Shard(parsing: shard) } catch { throw ValidationError("\(error).") } }
      guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1.") }
    }

    func run() throws {
      Console.announceRuntime()
      let (net, dataset) = try loadModelAndData(model, data)
      let part = try shard.map { try InputGradientMap.Shard(parsing: $0) }
      let bar = Console.ProgressBar()
      let acc = InputGradientMap.accumulate(model: net, data: dataset, target: target.value, batchSize: batchSize, shard: part) {
        bar.update(label: "gradient map", done: $0, total: $1, detail: "")
      }
      let meanImage = withoutGradients { (part.map { dataset.subset(Array($0.range(of: dataset.count, batchSize: batchSize))) } ?? dataset).images.mean(alongAxes: [0]) }
      let summary = MapSummary(acc, model: model, data: dataset.name, target: target.value, shard: shard)
      let outputs = GradientMapOutputs(folder: URL(cliPath: output), colormap: colormap.value, scaling: scaling.value,
                                       signed: signed, perClass: perClass)
      let files = try outputs.write(acc, summary: summary, classNames: dataset.classNames, meanImage: meanImage,
                                    metadata: ["pixelrobust.map.model": model, "pixelrobust.map.data": dataset.name,
                                               "pixelrobust.map.target": target.rawValue])
      print(String(format: "%d images: G in [%.3g, %.3g], top 10%% of pixels hold %.1f%% of the mass",
                   summary.images, summary.minimum, summary.maximum, (summary.topMassShare["10"] ?? 0) * 100))
      print("wrote " + files.map { output + "/" + $0 }.joined(separator: ", "))
    }
  }

  /// `pixelrobust merge-maps`: combine shard folders of `gradient-map`.
  struct MergeMapsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "merge-maps", abstract: "Merge gradient-map shards (their partial.safetensors sums) into one map.")

    @Option(help: "Shard output folders, comma-separated.")
    var inputs: String
    @Flag(help: "Also write per-class maps and their grid.")
    var perClass = false
    @Flag(help: "Also write the signed mean gradient.")
    var signed = false
    @Option(help: "Colour map: viridis, inferno, magma or gray.")
    var colormap: ColormapChoice = .viridis
    @Option(help: "Output folder.")
    var output: String

    func run() throws {
      let folders = inputs.split(separator: ",").map { URL(cliPath: String($0)) }
      guard !folders.isEmpty else { throw ValidationError("--inputs needs at least one folder.") }
      var merged: GradientMapAccumulator?
      var meta: [String: String] = [:]
      for f in folders {
        let (acc, m) = try GradientMapAccumulator.read(from: f.appendingPathComponent("partial.safetensors"))
        if merged == nil { merged = acc; meta = m } else { try merged!.merge(acc) }
      }
      let acc = merged!
      let target = GradientTarget(rawValue: meta["pixelrobust.map.target"] ?? "loss") ?? .loss
      let summary = MapSummary(acc, model: meta["pixelrobust.map.model"] ?? "?", data: meta["pixelrobust.map.data"] ?? "?",
                               target: target)
      let files = try GradientMapOutputs(folder: URL(cliPath: output), colormap: colormap.value, signed: signed, perClass: perClass)
        .write(acc, summary: summary, classNames: [], meanImage: nil, metadata: meta)
      print("merged \(folders.count) shards, \(acc.count) images; wrote " + files.joined(separator: ", "))
    }
  }
}

enum TargetChoice: String, ExpressibleByArgument, CaseIterable {
  case loss, logit
  var value: GradientTarget { self == .loss ? .loss : .logit }
}

enum ColormapChoice: String, ExpressibleByArgument, CaseIterable {
  case viridis, inferno, magma, gray
  var value: Colormap { Colormap(rawValue: rawValue)! }
}

enum ScalingChoice: String, ExpressibleByArgument, CaseIterable {
  case linear, percentile
  var value: HeatmapScaling { self == .linear ? .linear : .percentile(low: 1, high: 99) }
}
