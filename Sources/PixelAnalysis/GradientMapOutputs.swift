import Foundation
import PixelData
import PixelImaging
import PixelTensor

/// Writes a gradient map's files into a folder: `G.npy` (`[C, H, W]`, mean |∇|), `G_mean.npy`
/// (`[H, W]`, channel mean), `G_signed.npy` and `G_per_class.npy` when asked, `partial.safetensors`
/// (the mergeable sums), `summary.json`, and the PNG heatmaps `heatmap.png`,
/// `heatmap_signed.png`, `heatmap_per_class.png` and `overlay.png`.
public struct GradientMapOutputs {
  public var folder: URL
  public var colormap: Colormap
  public var scaling: HeatmapScaling
  public var signed: Bool
  public var perClass: Bool

  /// Outputs into `folder` with the given rendering.
  public init(folder: URL, colormap: Colormap = .viridis, scaling: HeatmapScaling = .linear, signed: Bool = false,
              perClass: Bool = false) {
    self.folder = folder
    self.colormap = colormap
    self.scaling = scaling
    self.signed = signed
    self.perClass = perClass
  }

  /// The rendering as job-identity entries, so that a merge of shards renders what each shard's
  /// command asked for.
  public var renderingIdentity: [String: String] {
    let scale: String = switch scaling {
    case .linear: "linear"
    case let .percentile(lo, hi): "percentile:\(lo),\(hi)"
    case let .fixed(lo, hi): "fixed:\(lo),\(hi)"
    }
    return ["render.colormap": colormap.rawValue, "render.scaling": scale, "render.signed": String(signed),
            "render.per_class": String(perClass)]
  }

  /// Outputs into `folder` rendered as ``renderingIdentity`` recorded.
  /// - Throws: ``AnalysisError/malformed(path:detail:)`` naming `source` for entries this
  ///   version does not write.
  public init(folder: URL, renderingIdentity identity: [String: String], source: String) throws {
    func bad(_ key: String) -> AnalysisError { .malformed(path: source, detail: "\(key) = \(identity[key] ?? "none")") }
    guard let colormap = identity["render.colormap"].flatMap(Colormap.init(rawValue:)) else { throw bad("render.colormap") }
    guard let signed = identity["render.signed"].flatMap(Bool.init) else { throw bad("render.signed") }
    guard let perClass = identity["render.per_class"].flatMap(Bool.init) else { throw bad("render.per_class") }
    let text = identity["render.scaling"] ?? ""
    let parts = text.split(separator: ":", maxSplits: 1)
    let bounds = parts.count == 2 ? parts[1].split(separator: ",").compactMap { Double($0) } : []
    let scaling: HeatmapScaling
    switch parts.first {
    case "linear" where parts.count == 1: scaling = .linear
    case "percentile" where bounds.count == 2: scaling = .percentile(low: bounds[0], high: bounds[1])
    case "fixed" where bounds.count == 2: scaling = .fixed(bounds[0], bounds[1])
    default: throw bad("render.scaling")
    }
    self.init(folder: folder, colormap: colormap, scaling: scaling, signed: signed, perClass: perClass)
  }

  /// Writes every file; returns their names.
  @discardableResult
  public func write(_ acc: GradientMapAccumulator, summary: MapSummary, classNames: [String], meanImage: Tensor?,
                    metadata: [String: String]) throws -> [String] {
    var files: [String] = []
    func url(_ name: String) -> URL { files.append(name); return folder.appendingPathComponent(name) }
    try NumPy.write(acc.meanAbsolute, to: url("G.npy"))
    try NumPy.write(acc.channelMean, to: url("G_mean.npy"))
    try acc.write(to: url("partial.safetensors"), metadata: metadata)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try AtomicFile.write(encoder.encode(summary), to: url("summary.json"))
    let scale = Swift.max(1, 224 / Swift.max(acc.imageShape[1], acc.imageShape[2]))
    try Heatmap.render(acc.channelMean, title: "mean |dCE/dx| over \(acc.count) images", colormap: colormap,
                       scaling: scaling, scale: scale).write(to: url("heatmap.png"))
    if let meanImage {
      let grid = Heatmap.grid([(Heatmap.imageTile(meanImage, scale: scale), "mean image"),
                               (Heatmap.overlay(acc.channelMean, on: meanImage, scaling: scaling, scale: scale), "map over mean image")],
                              columns: 2)
      try grid.write(to: url("overlay.png"))
    }
    if signed {
      try NumPy.write(acc.meanSigned, to: url("G_signed.npy"))
      let m = acc.meanSigned.channelMeanMap()
      let limit = Double(Swift.max(Swift.abs(m.min()), Swift.abs(m.max())))
      try Heatmap.render(m, title: "mean signed dCE/dx", colormap: .gray, scaling: .fixed(-limit, limit), scale: scale)
        .write(to: url("heatmap_signed.png"))
    }
    if perClass {
      let maps = acc.classMeans
      try NumPy.write(maps, to: url("G_per_class.npy"))
      let values = maps.scalars
      let shared = HeatmapScaling.fixed(Double(values.min() ?? 0), Double(values.max() ?? 1))
      let tileScale = Swift.max(1, 112 / Swift.max(acc.imageShape[1], acc.imageShape[2]))
      let cells = (0..<acc.classes).map { k -> (canvas: Canvas, caption: String) in
        let name = k < classNames.count ? classNames[k] : "class \(k)"
        return (Heatmap.tile(maps[k], colormap: colormap, scaling: shared, scale: tileScale).canvas,
                "\(k) \(name) (\(acc.classCounts[k]))")
      }
      try Heatmap.grid(cells, columns: 5, title: "per-class mean |dCE/dx|, one colour scale "
                       + "(\(Heatmap.label(shared.range(of: values).0)) to \(Heatmap.label(shared.range(of: values).1)))")
        .write(to: url("heatmap_per_class.png"))
    }
    return files
  }
}
