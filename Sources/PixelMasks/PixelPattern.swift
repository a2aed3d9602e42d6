/// The lattice patterns of designated pixels of Hwang et al. (2019, "Pixel Robustness
/// Manipulator"), v0–v5: in every `stride.0 × stride.1` cell the top-left `kernel.0 × kernel.1`
/// block (after a shift). A strided convolution with kernel `kernel` and stride `stride` reads
/// exactly these pixels, which is how a PRM's first layer stays sparse; attacks use the same
/// patterns as masks.
///
/// | pattern | kernel | stride | fraction |
/// |---|---|---|---|
/// | v0 | 1×1 | 2×2 | 25% (even rows × even columns) |
/// | v1 | 1×1 | 2×1 | 50% (even rows) |
/// | v2 | 1×1 | 1×2 | 50% (even columns) |
/// | v3 | 1×2 | 2×4 | 25% |
/// | v4 | 2×1 | 4×2 | 25% |
/// | v5 | 2×2 | 4×4 | 25% |
public enum PixelPattern: String, CaseIterable, Sendable {
  case v0, v1, v2, v3, v4, v5

  /// First-layer kernel (rows, columns).
  public var kernel: (Int, Int) {
    switch self {
    case .v0, .v1, .v2: return (1, 1)
    case .v3: return (1, 2)
    case .v4: return (2, 1)
    case .v5: return (2, 2)
    }
  }

  /// First-layer stride (rows, columns).
  public var stride: (Int, Int) {
    switch self {
    case .v0: return (2, 2)
    case .v1: return (2, 1)
    case .v2: return (1, 2)
    case .v3: return (2, 4)
    case .v4: return (4, 2)
    case .v5: return (4, 4)
    }
  }

  /// The fraction of designated pixels.
  public var fraction: Double {
    Double(kernel.0 * kernel.1) / Double(stride.0 * stride.1)
  }

  /// Whether pixel `(i, j)` is designated, with the pattern shifted by `(dy, dx)`.
  public func contains(row i: Int, column j: Int, shift: (Int, Int) = (0, 0)) -> Bool {
    let r = ((i - shift.0) % stride.0 + stride.0) % stride.0
    let c = ((j - shift.1) % stride.1 + stride.1) % stride.1
    return r < kernel.0 && c < kernel.1
  }
}
