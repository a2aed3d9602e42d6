import Foundation
import Testing
import PixelTensor
@testable import PixelImaging
import _TestSupport

@Suite("Colour maps, heatmaps, text and plots")
struct DrawingTests {
  @Test("colour maps match matplotlib's end points")
  func colormaps() {
    #expect(Colormap.viridis.color(0) == RGB(68, 1, 84))
    #expect(Colormap.viridis.color(1) == RGB(253, 231, 37))
    #expect(Colormap.inferno.color(0) == RGB(0, 0, 4))
    #expect(Colormap.magma.color(1) == RGB(252, 253, 191))
    #expect(Colormap.gray.color(0.5) == RGB(128, 128, 128))
    #expect(Colormap.viridis.color(.nan) == Colormap.viridis.color(0))
  }

  @Test("a heatmap tile upscales each pixel and scales linearly or by percentile")
  func tiles() {
    let map = Tensor([0, 1, 2, 3], shape: [2, 2])
    let (tile, range) = Heatmap.tile(map, colormap: .gray, scale: 3)
    #expect(tile.width == 6 && tile.height == 6 && range == (0, 3))
    #expect(tile[0, 0] == RGB.black && tile[5, 5] == RGB.white && tile[2, 2] == tile[0, 0])
    #expect(HeatmapScaling.percentile(low: 0, high: 50).range(of: [0, 1, 2, 3, 100]) == (0, 2))
    let rendered = Heatmap.render(map, title: "G")
    #expect(rendered.width > 16 && rendered.height > 16)
  }

  @Test("text draws glyph pixels; unknown characters fall back to ?")
  func text() {
    var c = Canvas(width: 20, height: 10)
    c.text("1", x: 0, y: 0)
    #expect(c[2, 0] == .black && c[0, 0] == .white)
    var d = Canvas(width: 10, height: 10)
    d.text("\u{2603}", x: 0, y: 0)
    var q = Canvas(width: 10, height: 10)
    q.text("?", x: 0, y: 0)
    #expect(d.pixels == q.pixels)
    #expect(BitmapFont.width("abc") == 17)
  }

  @Test("a line plot renders axes and series, and picks nice ticks")
  func plot() throws {
    #expect(LinePlot.ticks(0, 100) == [0, 20, 40, 60, 80, 100])
    let plot = LinePlot(title: "acc", xLabel: "k", yLabel: "%", series: [.init(name: "top", points: [(5, 80), (50, 10)])])
    let c = plot.render(width: 300, height: 200)
    #expect(c.pixels.contains(0))
    let url = temporaryPath("plot", suffix: ".png")
    try c.write(to: url)
    #expect(try PNG.read(from: url).width == 300)
  }
}

@Suite("Canvas clipping")
struct CanvasClippingTests {
  @Test("rectangles and text partly or wholly outside the canvas are clipped, not a trap")
  func clipping() {
    var c = Canvas(width: 10, height: 6)
    c.fill(x: 8, y: 4, width: 5, height: 5, color: .red)
    c.fill(x: 20, y: -9, width: 3, height: 3, color: .red)
    c.text("a title far wider than the canvas", x: 2, y: 1)
    #expect(c[9, 5] == .red && c[7, 3] == .white)
  }
}
