import PixelMasks

/// Which pixels a PRM's first layer reads: a pattern (Hwang et al.'s v0–v5, optionally shifted)
/// or an explicit mask (a random subset, a user PNG).
public enum DesignatedPixels: Equatable, Sendable {
  /// A lattice pattern shifted by `(dy, dx)` pixels.
  case pattern(PixelPattern, shift: (Int, Int))
  /// An explicit set of pixels.
  case mask(PixelMask)

  public static func == (a: Self, b: Self) -> Bool {
    switch (a, b) {
    case let (.pattern(p, s), .pattern(q, t)): return p == q && s == t
    case let (.mask(m), .mask(n)): return m == n
    default: return false
    }
  }

  /// The designated pixels of an `height × width` image.
  public func mask(height: Int, width: Int) -> PixelMask {
    switch self {
    case let .pattern(p, shift): return .pattern(p, height: height, width: width, shift: shift)
    case let .mask(m): return m
    }
  }
}
