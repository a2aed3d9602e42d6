import Foundation

/// A line plot with axes, ticks, a legend and a title, rendered to a ``Canvas``
/// (accuracy-versus-k curves, accuracy-versus-λ sweeps).
public struct LinePlot: Sendable {
  public struct Series: Sendable {
    public var name: String
    public var points: [(x: Double, y: Double)]
    public init(name: String, points: [(x: Double, y: Double)]) { self.name = name; self.points = points }
  }

  public var title: String
  public var xLabel: String
  public var yLabel: String
  public var series: [Series]
  /// Fixed y range; `nil` fits the data.
  public var yRange: ClosedRange<Double>?

  /// A plot of `series` with axis labels; `yRange` fixes the y axis.
  public init(title: String, xLabel: String, yLabel: String, series: [Series], yRange: ClosedRange<Double>? = nil) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
    self.yRange = yRange
  }

  /// "Nice" tick positions covering `lo…hi` (steps of 1, 2 or 5 × 10ⁿ).
  static func ticks(_ lo: Double, _ hi: Double, target: Int = 5) -> [Double] {
    let span = Swift.max(hi - lo, 1e-12)
    let raw = span / Double(target)
    let mag = pow(10, floor(log10(raw)))
    let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
    var t = ceil(lo / step - 1e-9) * step
    var out: [Double] = []
    while t <= hi + 1e-9 * span { out.append(t); t += step }
    return out
  }

  static func tickLabel(_ v: Double) -> String {
    if Swift.abs(v - v.rounded()) < 1e-9 { return String(Int(v.rounded())) }
    return String(format: "%g", (v * 1e6).rounded() / 1e6)
  }

  /// Draws the plot on a `width × height` canvas.
  public func render(width: Int = 640, height: Int = 420) -> Canvas {
    var c = Canvas(width: width, height: height)
    let left = 64, right = 16, top = 34, bottom = 48
    let plotW = width - left - right, plotH = height - top - bottom
    let xs = series.flatMap { $0.points.map(\.x) }, ys = series.flatMap { $0.points.map(\.y) }
    let xLo = xs.min() ?? 0, xHi = Swift.max(xs.max() ?? 1, (xs.min() ?? 0) + 1e-9)
    var yLo = yRange?.lowerBound ?? (ys.min() ?? 0), yHi = yRange?.upperBound ?? (ys.max() ?? 1)
    if yHi - yLo < 1e-9 { yLo -= 0.5; yHi += 0.5 }
    func px(_ x: Double) -> Int { left + Int(((x - xLo) / (xHi - xLo) * Double(plotW)).rounded()) }
    func py(_ y: Double) -> Int { top + plotH - Int(((y - yLo) / (yHi - yLo) * Double(plotH)).rounded()) }

    c.text(title, centeredAt: width / 2, y: 10, scale: 1)
    for t in Self.ticks(yLo, yHi) {
      let y = py(t)
      c.fill(x: left, y: y, width: plotW, height: 1, color: .lightGray)
      let s = Self.tickLabel(t)
      c.text(s, x: left - 6 - BitmapFont.width(s), y: y - 3)
    }
    for t in Self.ticks(xLo, xHi) {
      let x = px(t)
      c.fill(x: x, y: top, width: 1, height: plotH, color: .lightGray)
      c.fill(x: x, y: top + plotH, width: 1, height: 4, color: .black)
      c.text(Self.tickLabel(t), centeredAt: x, y: top + plotH + 7)
    }
    c.fill(x: left, y: top + plotH, width: plotW, height: 1, color: .black)
    c.fill(x: left, y: top, width: 1, height: plotH, color: .black)
    c.text(xLabel, centeredAt: left + plotW / 2, y: height - 16)
    c.verticalText(yLabel, x: 8, y: top + plotH / 2 + BitmapFont.width(yLabel) / 2)

    for (k, s) in series.enumerated() {
      let color = RGB.palette[k % RGB.palette.count]
      let pts = s.points.sorted { $0.x < $1.x }
      // Past the palette, colours repeat with dashed lines and no markers.
      let dashed = k >= RGB.palette.count
      for (a, b) in zip(pts, pts.dropFirst()) {
        Self.segment(&c, from: (px(a.x), py(a.y)), to: (px(b.x), py(b.y)), color: color, dashed: dashed)
      }
      if !dashed { for p in pts { c.fill(x: px(p.x) - 2, y: py(p.y) - 2, width: 5, height: 5, color: color) } }
    }
    // The legend goes in the plot corner its box hides the fewest line samples in, on white.
    let boxW = (series.map { BitmapFont.width($0.name) }.max() ?? 0) + 30, boxH = series.count * 12 + 6
    var samples: [(Int, Int)] = []
    for s in series {
      let pts = s.points.sorted { $0.x < $1.x }.map { (px($0.x), py($0.y)) }
      for (a, b) in zip(pts, pts.dropFirst()) {
        let n = Swift.max(1, Swift.max(Swift.abs(b.0 - a.0), Swift.abs(b.1 - a.1)) / 4)
        for t in 0...n { samples.append((a.0 + (b.0 - a.0) * t / n, a.1 + (b.1 - a.1) * t / n)) }
      }
      samples += pts
    }
    let corners = [(left + plotW - boxW - 6, top + 6), (left + 6, top + plotH - boxH - 6),
                   (left + 6, top + 6), (left + plotW - boxW - 6, top + plotH - boxH - 6)]
    let (lx, ly) = corners.min { a, b in
      func hidden(_ o: (Int, Int)) -> Int { samples.filter { $0.0 >= o.0 && $0.0 < o.0 + boxW && $0.1 >= o.1 && $0.1 < o.1 + boxH }.count }
      return hidden(a) < hidden(b)
    }!
    if !series.isEmpty {
      c.fill(x: lx - 1, y: ly - 1, width: boxW + 2, height: boxH + 2, color: .lightGray)
      c.fill(x: lx, y: ly, width: boxW, height: boxH, color: .white)
    }
    for (k, s) in series.enumerated() {
      let y = ly + 4 + k * 12
      Self.segment(&c, from: (lx + 6, y + 4), to: (lx + 20, y + 4), color: RGB.palette[k % RGB.palette.count],
                   dashed: k >= RGB.palette.count)
      c.text(s.name, x: lx + 24, y: y)
    }
    return c
  }

  /// A 2-pixel line, solid or in 5-on, 3-off dashes.
  static func segment(_ c: inout Canvas, from a: (Int, Int), to b: (Int, Int), color: RGB, dashed: Bool) {
    guard dashed else { return c.line(from: a, to: b, color: color, thickness: 2) }
    let length = Swift.max(Swift.abs(b.0 - a.0), Swift.abs(b.1 - a.1), 1)
    for start in stride(from: 0, to: length, by: 8) {
      let end = Swift.min(start + 5, length)
      c.line(from: (a.0 + (b.0 - a.0) * start / length, a.1 + (b.1 - a.1) * start / length),
             to: (a.0 + (b.0 - a.0) * end / length, a.1 + (b.1 - a.1) * end / length), color: color, thickness: 2)
    }
  }
}
