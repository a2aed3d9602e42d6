import PixelTensor

extension PixelMask {
  /// The designated pixels of `pattern` shifted by `shift`.
  public static func pattern(_ pattern: PixelPattern, height: Int, width: Int, shift: (Int, Int) = (0, 0)) -> PixelMask {
    var v = [Bool](repeating: false, count: height * width)
    for i in 0..<height { for j in 0..<width { v[i * width + j] = pattern.contains(row: i, column: j, shift: shift) } }
    return PixelMask(height: height, width: width, values: v)
  }

  /// The number of pixels a `percent` share of `total` selects (rounded to nearest, ≥ 1 when
  /// `percent > 0`).
  static func pixelCount(percent: Double, total: Int) -> Int {
    guard percent > 0 else { return 0 }
    return Swift.min(total, Swift.max(1, Int((percent / 100 * Double(total)).rounded())))
  }

  /// The `percent` % of pixels with the largest values of `map` `[H, W]` (or `[C, H, W]`,
  /// averaged over channels); ties are broken by pixel index, lowest first.
  public static func top(_ percent: Double, of map: Tensor) -> PixelMask { ranked(map, percent: percent, largest: true) }

  /// The `percent` % of pixels with the smallest values; ties by pixel index, lowest first.
  public static func bottom(_ percent: Double, of map: Tensor) -> PixelMask { ranked(map, percent: percent, largest: false) }

  /// `percent` % of the pixels, drawn uniformly without replacement with a seeded generator.
  public static func random(_ percent: Double, height: Int, width: Int, seed: UInt64) -> PixelMask {
    var order = Array(0..<(height * width))
    var rng = SeededGenerator(seed: seed)
    order.shuffle(using: &rng)
    var v = [Bool](repeating: false, count: height * width)
    for i in order.prefix(pixelCount(percent: percent, total: height * width)) { v[i] = true }
    return PixelMask(height: height, width: width, values: v)
  }

  /// The per-pixel values of a `[H, W]` or `[C, H, W]` map (channel mean).
  public static func pixelValues(_ map: Tensor) -> (height: Int, width: Int, values: [Float]) {
    let m = map.channelMeanMap()
    return (m.shape[0], m.shape[1], m.scalars)
  }

  static func ranked(_ map: Tensor, percent: Double, largest: Bool) -> PixelMask {
    let (h, w, values) = pixelValues(map)
    // NOTE: NaN ranks last either way, so a broken map never selects its NaN pixels first.
    let order = values.indices.sorted { a, b in
      let x = values[a], y = values[b]
      if x.isNaN != y.isNaN { return !x.isNaN }
      if x != y && !x.isNaN { return largest ? x > y : x < y }
      return a < b
    }
    var v = [Bool](repeating: false, count: h * w)
    for i in order.prefix(pixelCount(percent: percent, total: h * w)) { v[i] = true }
    return PixelMask(height: h, width: w, values: v)
  }
}

