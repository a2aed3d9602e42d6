/// Colour maps for heatmaps: matplotlib's perceptually uniform viridis, inferno and magma, and gray.
public enum Colormap: String, CaseIterable, Sendable {
  case viridis, inferno, magma, gray

  private static let tables: [Colormap: [RGB]] = {
    func decode(_ hex: String) -> [RGB] {
      let bytes = Array(hex.utf8).filter { $0 != 10 && $0 != 32 }
      func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : c - 87 }
      var out: [RGB] = []
      var i = 0
      while i + 5 < bytes.count {
        let v = (0..<3).map { k in nibble(bytes[i + 2 * k]) << 4 | nibble(bytes[i + 2 * k + 1]) }
        out.append(RGB(v[0], v[1], v[2]))
        i += 6
      }
      return out
    }
    return [.viridis: decode(ColormapTables.viridis), .inferno: decode(ColormapTables.inferno),
            .magma: decode(ColormapTables.magma)]
  }()

  /// The colour of `t` in `0…1` (clamped; NaN maps to the low end).
  public func color(_ t: Double) -> RGB {
    let u = t.isNaN ? 0 : Swift.min(1, Swift.max(0, t))
    if self == .gray {
      let v = UInt8((u * 255).rounded())
      return RGB(v, v, v)
    }
    let table = Colormap.tables[self]!
    return table[Int((u * Double(table.count - 1)).rounded())]
  }
}
