import ArgumentParser
import Foundation
import PixelAnalysis
import PixelImaging

/// How `gradient-map` renders a map folder (a merge renders as its shards recorded).
struct MapRenderingOptions: ParsableArguments {
  @Flag(help: "Also write per-class maps and their grid.")
  var perClass = false
  @Flag(help: "Also write the signed mean gradient.")
  var signed = false
  @Option(help: "Colour map: viridis, inferno, magma or gray.")
  var colormap: ColormapChoice = .viridis
  @Option(help: "Heatmap scaling: linear, or percentile to clip outliers (1st–99th).")
  var scaling: ScalingChoice = .linear

  /// The outputs into `folder`.
  func outputs(folder: String) -> GradientMapOutputs {
    GradientMapOutputs(folder: URL(cliPath: folder), colormap: colormap.value, scaling: scaling.value, signed: signed,
                       perClass: perClass)
  }
}

enum ColormapChoice: String, ExpressibleByArgument, CaseIterable {
  case viridis, inferno, magma, gray
  var value: Colormap { Colormap(rawValue: rawValue)! }
}

enum ScalingChoice: String, ExpressibleByArgument, CaseIterable {
  case linear, percentile
  var value: HeatmapScaling { self == .linear ? .linear : .percentile(low: 1, high: 99) }
}
