import Foundation
import PixelTensor

/// How map values become colours.
public enum HeatmapScaling: Sendable, Equatable {
  /// The map's minimum to its maximum.
  case linear
  /// The given percentiles (e.g. 1 and 99) to the colour ends, clipping outliers.
  case percentile(low: Double, high: Double)
  /// A fixed range, so several maps share one colour scale.
  case fixed(Double, Double)

  /// The value range this scaling maps onto `0…1` for `values`.
  public func range(of values: [Float]) -> (Double, Double) {
    let finite = values.filter(\.isFinite).map(Double.init).sorted()
    guard let first = finite.first, let last = finite.last else { return (0, 1) }
    switch self {
    case .linear: return (first, last)
    case let .percentile(lo, hi):
      func q(_ p: Double) -> Double { finite[Swift.min(finite.count - 1, Swift.max(0, Int((p / 100 * Double(finite.count - 1)).rounded())))] }
      return (q(lo), q(hi))
    case let .fixed(a, b): return (a, b)
    }
  }
}

/// Heatmaps of per-pixel maps, image tiles, overlays and captioned grids.
public enum Heatmap {
  /// The map `[H, W]` (or `[C, H, W]`, averaged over channels) as colours, each pixel a
  /// `scale × scale` block (nearest-neighbour upscaling keeps a 28×28 map readable).
  public static func tile(_ map: Tensor, colormap: Colormap = .viridis, scaling: HeatmapScaling = .linear,
                          scale: Int = 8) -> (canvas: Canvas, range: (Double, Double)) {
    let (h, w, values) = channelMean(map)
    let (lo, hi) = scaling.range(of: values)
    var c = Canvas(width: w * scale, height: h * scale)
    for i in 0..<h {
      for j in 0..<w {
        let t = hi > lo ? (Double(values[i * w + j]) - lo) / (hi - lo) : 0.5
        c.fill(x: j * scale, y: i * scale, width: scale, height: scale, color: colormap.color(t))
      }
    }
    return (c, (lo, hi))
  }

  /// A heatmap with a title above and a colour bar with its minimum and maximum labelled.
  public static func render(_ map: Tensor, title: String? = nil, colormap: Colormap = .viridis,
                            scaling: HeatmapScaling = .linear, scale: Int = 8) -> Canvas {
    let (tile, range) = self.tile(map, colormap: colormap, scaling: scaling, scale: scale)
    let top = title == nil ? 6 : 20
    let labels = [label(range.1), label(range.0)]
    let labelWidth = labels.map { BitmapFont.width($0) }.max() ?? 0
    var c = Canvas(width: tile.width + 30 + labelWidth + 8, height: tile.height + top + 8)
    if let title { c.text(title, x: 4, y: 6) }
    c.draw(tile, x: 4, y: top)
    c.stroke(x: 3, y: top - 1, width: tile.width + 2, height: tile.height + 2, color: .gray)
    let barX = tile.width + 12
    for y in 0..<tile.height {
      c.fill(x: barX, y: top + y, width: 10, height: 1, color: colormap.color(1 - Double(y) / Double(Swift.max(tile.height - 1, 1))))
    }
    c.stroke(x: barX - 1, y: top - 1, width: 12, height: tile.height + 2, color: .gray)
    c.text(labels[0], x: barX + 15, y: top)
    c.text(labels[1], x: barX + 15, y: top + tile.height - 7)
    return c
  }

  /// The image `[C, H, W]` in `[0, 1]` (gray or RGB) as a tile.
  public static func imageTile(_ image: Tensor, scale: Int = 8) -> Canvas {
    let c = image.shape[0], h = image.shape[1], w = image.shape[2]
    let v = image.scalars
    var out = Canvas(width: w * scale, height: h * scale)
    for i in 0..<h {
      for j in 0..<w {
        func byte(_ ch: Int) -> UInt8 { UInt8((Swift.min(1, Swift.max(0, v[(ch * h + i) * w + j])) * 255).rounded()) }
        let color = c >= 3 ? RGB(byte(0), byte(1), byte(2)) : RGB(byte(0), byte(0), byte(0))
        out.fill(x: j * scale, y: i * scale, width: scale, height: scale, color: color)
      }
    }
    return out
  }

  /// A signed perturbation `[C, H, W]` as a tile: gray at zero, white and black at ±`limit`.
  public static func perturbationTile(_ delta: Tensor, limit: Float, scale: Int = 8) -> Canvas {
    let shifted = withoutGradients { (delta.mean(alongAxes: [0]) * (0.5 / Swift.max(limit, 1e-12)) + 0.5).clamped(to: 0...1) }
    return imageTile(shifted.expandingShape(at: 0), scale: scale)
  }

  /// The map blended over the image: `(1 − α)·image + α·colour(map)`.
  public static func overlay(_ map: Tensor, on image: Tensor, alpha: Double = 0.5, colormap: Colormap = .inferno,
                             scaling: HeatmapScaling = .linear, scale: Int = 8) -> Canvas {
    let heat = tile(map, colormap: colormap, scaling: scaling, scale: scale).canvas
    let base = imageTile(image, scale: scale)
    var out = base
    for y in 0..<out.height {
      for x in 0..<out.width {
        let a = base[x, y], b = heat[x, y]
        func mix(_ p: UInt8, _ q: UInt8) -> UInt8 { UInt8(((1 - alpha) * Double(p) + alpha * Double(q)).rounded()) }
        out.set(x, y, RGB(mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)))
      }
    }
    return out
  }

  /// Tiles in rows of `columns`, each with a caption under it, and an optional title.
  public static func grid(_ cells: [(canvas: Canvas, caption: String)], columns: Int, title: String? = nil,
                          padding: Int = 8) -> Canvas {
    precondition(!cells.isEmpty && columns >= 1, "a grid needs cells and at least one column")
    let cellW = cells.map { Swift.max($0.canvas.width, BitmapFont.width($0.caption)) }.max()!
    let cellH = cells.map(\.canvas.height).max()! + 12
    let rows = (cells.count + columns - 1) / columns
    let top = title == nil ? padding : padding + 16
    var out = Canvas(width: padding + columns * (cellW + padding), height: top + rows * (cellH + padding))
    if let title { out.text(title, x: padding, y: padding) }
    for (k, cell) in cells.enumerated() {
      let x = padding + (k % columns) * (cellW + padding), y = top + (k / columns) * (cellH + padding)
      out.draw(cell.canvas, x: x + (cellW - cell.canvas.width) / 2, y: y)
      out.text(cell.caption, centeredAt: x + cellW / 2, y: y + cell.canvas.height + 3)
    }
    return out
  }

  /// Draws the outline of `mask` (`H × W` booleans) onto a tile drawn at `scale`: the edge of
  /// every masked pixel that borders an unmasked one.
  public static func outline(_ mask: [Bool], height: Int, width: Int, on canvas: inout Canvas, originX: Int = 0,
                             originY: Int = 0, scale: Int = 8, color: RGB = .red) {
    func inside(_ i: Int, _ j: Int) -> Bool { i >= 0 && j >= 0 && i < height && j < width && mask[i * width + j] }
    for i in 0..<height {
      for j in 0..<width where mask[i * width + j] {
        let x = originX + j * scale, y = originY + i * scale
        if !inside(i - 1, j) { canvas.fill(x: x, y: y, width: scale, height: 1, color: color) }
        if !inside(i + 1, j) { canvas.fill(x: x, y: y + scale - 1, width: scale, height: 1, color: color) }
        if !inside(i, j - 1) { canvas.fill(x: x, y: y, width: 1, height: scale, color: color) }
        if !inside(i, j + 1) { canvas.fill(x: x + scale - 1, y: y, width: 1, height: scale, color: color) }
      }
    }
  }

  static func channelMean(_ map: Tensor) -> (Int, Int, [Float]) {
    let m = map.channelMeanMap()
    return (m.shape[0], m.shape[1], m.scalars)
  }

  /// A compact number label: `1.2e-05`, `0.034`, `12.5`.
  public static func label(_ v: Double) -> String {
    if v == 0 { return "0" }
    let a = Swift.abs(v)
    if a < 1e-3 || a >= 1e4 { return String(format: "%.2e", v) }
    if a < 1 { return String(format: "%.4f", v) }
    return String(format: "%.3g", v)
  }
}
