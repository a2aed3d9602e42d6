import Foundation

/// An 8-bit RGB colour.
public struct RGB: Equatable, Sendable {
  public var r: UInt8, g: UInt8, b: UInt8
  public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }
  public static let white = RGB(255, 255, 255)
  public static let black = RGB(0, 0, 0)
  public static let gray = RGB(128, 128, 128)
  public static let lightGray = RGB(225, 225, 225)
  public static let red = RGB(220, 40, 40)
  /// Distinguishable line colours (Okabe–Ito palette, friendly to colour-blind readers).
  public static let palette = [RGB(0, 114, 178), RGB(213, 94, 0), RGB(0, 158, 115), RGB(204, 121, 167),
                               RGB(230, 159, 0), RGB(86, 180, 233), RGB(0, 0, 0)]
}

/// A raster of RGB pixels to draw heatmaps, grids and plots on, then save as PNG.
public struct Canvas: Sendable {
  public let width: Int
  public let height: Int
  /// Row-major RGB bytes.
  public private(set) var pixels: [UInt8]

  /// A `width × height` canvas filled with `background`.
  public init(width: Int, height: Int, background: RGB = .white) {
    precondition(width > 0 && height > 0, "a canvas needs a positive size")
    self.width = width
    self.height = height
    pixels = [UInt8](repeating: 0, count: width * height * 3)
    fill(x: 0, y: 0, width: width, height: height, color: background)
  }

  /// The colour at `(x, y)`.
  public subscript(x: Int, y: Int) -> RGB {
    let i = (y * width + x) * 3
    return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
  }

  /// Sets one pixel; points outside the canvas are ignored.
  public mutating func set(_ x: Int, _ y: Int, _ c: RGB) {
    guard x >= 0, y >= 0, x < width, y < height else { return }
    let i = (y * width + x) * 3
    pixels[i] = c.r; pixels[i + 1] = c.g; pixels[i + 2] = c.b
  }

  /// Fills a rectangle (clipped to the canvas).
  public mutating func fill(x: Int, y: Int, width w: Int, height h: Int, color: RGB) {
    let (x0, x1, y0, y1) = (Swift.max(0, x), Swift.min(width, x + w), Swift.max(0, y), Swift.min(height, y + h))
    // NOTE: a rectangle wholly outside the canvas (text wider than its image) draws nothing.
    guard x0 < x1, y0 < y1 else { return }
    for yy in y0..<y1 {
      for xx in x0..<x1 { set(xx, yy, color) }
    }
  }

  /// A one-pixel rectangle outline.
  public mutating func stroke(x: Int, y: Int, width w: Int, height h: Int, color: RGB) {
    fill(x: x, y: y, width: w, height: 1, color: color)
    fill(x: x, y: y + h - 1, width: w, height: 1, color: color)
    fill(x: x, y: y, width: 1, height: h, color: color)
    fill(x: x + w - 1, y: y, width: 1, height: h, color: color)
  }

  /// A straight line (Bresenham) of the given thickness.
  public mutating func line(from p: (Int, Int), to q: (Int, Int), color: RGB, thickness: Int = 1) {
    var (x0, y0) = p
    let (x1, y1) = q
    let dx = Swift.abs(x1 - x0), dy = -Swift.abs(y1 - y0)
    let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
    var err = dx + dy
    let r = (thickness - 1) / 2
    while true {
      fill(x: x0 - r, y: y0 - r, width: thickness, height: thickness, color: color)
      if x0 == x1 && y0 == y1 { break }
      let e2 = 2 * err
      if e2 >= dy { err += dy; x0 += sx }
      if e2 <= dx { err += dx; y0 += sy }
    }
  }

  /// Copies `other` with its top-left corner at `(x, y)`.
  public mutating func draw(_ other: Canvas, x: Int, y: Int) {
    for yy in 0..<other.height { for xx in 0..<other.width { set(x + xx, y + yy, other[xx, yy]) } }
  }

  /// The canvas as an RGB ``Image``.
  public var image: Image { Image(width: width, height: height, channels: 3, bytes: pixels) }

  /// Saves the canvas as a PNG, atomically.
  public func write(to url: URL) throws { try PNG.write(image, to: url) }
}
