/// Text in a 5×7 bitmap font (6 pixels advance, 8 per line at scale 1), enough for labels,
/// ticks and captions without a font library.
public enum BitmapFont {
  /// Width in pixels of `text` at `scale`.
  public static func width(_ text: String, scale: Int = 1) -> Int { Swift.max(0, text.count * 6 - 1) * scale }
  /// Height in pixels of one line at `scale`.
  public static func height(scale: Int = 1) -> Int { 7 * scale }
}

extension BitmapFont {
  /// The lit pixels `(row, column)` of `ch`'s 5×7 glyph; unknown characters draw as `?`.
  static func pixels(_ ch: Character) -> [(row: Int, column: Int)] {
    let rows = BitmapFontGlyphs.glyphs[ch] ?? BitmapFontGlyphs.glyphs["?"]!
    return rows.enumerated().flatMap { r, bits in (0..<5).filter { bits & (1 << (4 - $0)) != 0 }.map { (r, $0) } }
  }
}

extension Canvas {
  /// Draws `text` with its top-left corner at `(x, y)`; unknown characters draw as `?`.
  public mutating func text(_ text: String, x: Int, y: Int, color: RGB = .black, scale: Int = 1) {
    for (i, ch) in text.enumerated() {
      for p in BitmapFont.pixels(ch) {
        fill(x: x + (6 * i + p.column) * scale, y: y + p.row * scale, width: scale, height: scale, color: color)
      }
    }
  }

  /// Draws `text` centred horizontally on `centerX`.
  public mutating func text(_ text: String, centeredAt centerX: Int, y: Int, color: RGB = .black, scale: Int = 1) {
    self.text(text, x: centerX - BitmapFont.width(text, scale: scale) / 2, y: y, color: color, scale: scale)
  }

  /// Draws `text` rotated a quarter turn anticlockwise (for a y-axis label), its bottom-left
  /// at `(x, y)`.
  public mutating func verticalText(_ text: String, x: Int, y: Int, color: RGB = .black, scale: Int = 1) {
    for (i, ch) in text.enumerated() {
      for p in BitmapFont.pixels(ch) {
        fill(x: x + p.row * scale, y: y - (6 * i + p.column) * scale, width: scale, height: scale, color: color)
      }
    }
  }
}
