/// Text in a 5×7 bitmap font (6 pixels advance, 8 per line at scale 1), enough for labels,
/// ticks and captions without a font library.
public enum BitmapFont {
  /// Width in pixels of `text` at `scale`.
  public static func width(_ text: String, scale: Int = 1) -> Int { Swift.max(0, text.count * 6 - 1) * scale }
  /// Height in pixels of one line at `scale`.
  public static func height(scale: Int = 1) -> Int { 7 * scale }
}

extension Canvas {
  /// Draws `text` with its top-left corner at `(x, y)`; unknown characters draw as `?`.
  public mutating func text(_ text: String, x: Int, y: Int, color: RGB = .black, scale: Int = 1) {
    var cx = x
    for ch in text {
      let rows = BitmapFontGlyphs.glyphs[ch] ?? BitmapFontGlyphs.glyphs["?"]!
      for (r, bits) in rows.enumerated() {
        for c in 0..<5 where bits & (1 << (4 - c)) != 0 {
          fill(x: cx + c * scale, y: y + r * scale, width: scale, height: scale, color: color)
        }
      }
      cx += 6 * scale
    }
  }

  /// Draws `text` centred horizontally on `centerX`.
  public mutating func text(_ text: String, centeredAt centerX: Int, y: Int, color: RGB = .black, scale: Int = 1) {
    self.text(text, x: centerX - BitmapFont.width(text, scale: scale) / 2, y: y, color: color, scale: scale)
  }

  /// Draws `text` rotated a quarter turn anticlockwise (for a y-axis label), its bottom-left
  /// at `(x, y)`.
  public mutating func verticalText(_ text: String, x: Int, y: Int, color: RGB = .black, scale: Int = 1) {
    var cy = y
    for ch in text {
      let rows = BitmapFontGlyphs.glyphs[ch] ?? BitmapFontGlyphs.glyphs["?"]!
      for (r, bits) in rows.enumerated() {
        for c in 0..<5 where bits & (1 << (4 - c)) != 0 {
          fill(x: x + r * scale, y: cy - c * scale, width: scale, height: scale, color: color)
        }
      }
      cy -= 6 * scale
    }
  }
}
