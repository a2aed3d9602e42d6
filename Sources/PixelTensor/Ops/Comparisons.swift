/// Comparisons produce constant ``Mask``s: they have no derivative and carry no graph.
infix operator .> : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .== : ComparisonPrecedence

extension Tensor {
  private static func compare(_ a: Tensor, _ b: Tensor, _ op: ComparisonOp) -> Mask {
    let (x, y) = withoutGradients { broadcastPair(a.detached(), b.detached()) }
    let out = ByteStorage(count: x.elementCount)
    Elementwise.compare(op, x.storage.base, y.storage.base, out.base, count: x.elementCount)
    return Mask(shape: x.shape, storage: out)
  }

  private static func compare(_ a: Tensor, _ c: Float, _ op: ComparisonOp) -> Mask {
    let out = ByteStorage(count: a.elementCount)
    Elementwise.compare(op, a.storage.base, scalar: c, out.base, count: a.elementCount)
    return Mask(shape: a.shape, storage: out)
  }

  /// Elementwise `a > b` with broadcasting.
  public static func .> (a: Tensor, b: Tensor) -> Mask { compare(a, b, .greater) }
  /// Elementwise `a < b` with broadcasting.
  public static func .< (a: Tensor, b: Tensor) -> Mask { compare(a, b, .less) }
  /// Elementwise `a ≥ b` with broadcasting.
  public static func .>= (a: Tensor, b: Tensor) -> Mask { compare(a, b, .greaterOrEqual) }
  /// Elementwise `a ≤ b` with broadcasting.
  public static func .<= (a: Tensor, b: Tensor) -> Mask { compare(a, b, .lessOrEqual) }
  /// Elementwise `a == b` with broadcasting.
  public static func .== (a: Tensor, b: Tensor) -> Mask { compare(a, b, .equal) }

  /// Elementwise `x > c`.
  public static func .> (x: Tensor, c: Float) -> Mask { compare(x, c, .greater) }
  /// Elementwise `x < c`.
  public static func .< (x: Tensor, c: Float) -> Mask { compare(x, c, .less) }
  /// Elementwise `x ≥ c`.
  public static func .>= (x: Tensor, c: Float) -> Mask { compare(x, c, .greaterOrEqual) }
  /// Elementwise `x ≤ c`.
  public static func .<= (x: Tensor, c: Float) -> Mask { compare(x, c, .lessOrEqual) }
  /// Elementwise `x == c`.
  public static func .== (x: Tensor, c: Float) -> Mask { compare(x, c, .equal) }

  /// Elementwise test for NaN (NaN is the one value unequal to itself).
  public var isNaN: Mask { !Tensor.compare(self, self, .equal) }

  /// Whether every element is finite (no NaN, no ±∞).
  public var isFinite: Bool { Elementwise.allFinite(storage.base, count: elementCount) }
}
