/// Comparisons produce constant ``Mask``s: they have no derivative and carry no graph.
infix operator .> : ComparisonPrecedence
infix operator .< : ComparisonPrecedence
infix operator .>= : ComparisonPrecedence
infix operator .<= : ComparisonPrecedence
infix operator .== : ComparisonPrecedence

extension Tensor {
  private static func compare(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Bool) -> Mask {
    let (x, y) = withoutGradients { broadcastPair(a.detached(), b.detached()) }
    let out = ByteStorage(count: x.elementCount)
    Elementwise.compare(x.storage.base, y.storage.base, out.base, count: x.elementCount, f)
    return Mask(shape: x.shape, storage: out)
  }

  /// Elementwise `a > b` with broadcasting.
  public static func .> (a: Tensor, b: Tensor) -> Mask { compare(a, b, >) }
  /// Elementwise `a < b` with broadcasting.
  public static func .< (a: Tensor, b: Tensor) -> Mask { compare(a, b, <) }
  /// Elementwise `a ≥ b` with broadcasting.
  public static func .>= (a: Tensor, b: Tensor) -> Mask { compare(a, b, >=) }
  /// Elementwise `a ≤ b` with broadcasting.
  public static func .<= (a: Tensor, b: Tensor) -> Mask { compare(a, b, <=) }
  /// Elementwise `a == b` with broadcasting.
  public static func .== (a: Tensor, b: Tensor) -> Mask { compare(a, b, ==) }

  /// Elementwise `x > c`.
  public static func .> (x: Tensor, c: Float) -> Mask { compare(x, Tensor(c), >) }
  /// Elementwise `x < c`.
  public static func .< (x: Tensor, c: Float) -> Mask { compare(x, Tensor(c), <) }
  /// Elementwise `x ≥ c`.
  public static func .>= (x: Tensor, c: Float) -> Mask { compare(x, Tensor(c), >=) }
  /// Elementwise `x ≤ c`.
  public static func .<= (x: Tensor, c: Float) -> Mask { compare(x, Tensor(c), <=) }
  /// Elementwise `x == c`.
  public static func .== (x: Tensor, c: Float) -> Mask { compare(x, Tensor(c), ==) }

  /// Elementwise test for NaN.
  public var isNaN: Mask { Tensor.compare(self, self) { a, _ in a.isNaN } }
  /// Elementwise test for ±∞ or NaN.
  public var isNonFinite: Mask { Tensor.compare(self, self) { a, _ in !a.isFinite } }
}
