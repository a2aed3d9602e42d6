/// Elementwise arithmetic with NumPy broadcasting. Each operator broadcasts its operands to
/// a common shape (an explicit, differentiable ``Tensor/broadcast(to:)``) and then applies
/// an equal-shape primitive.
extension Tensor {
  /// Both operands broadcast to their common shape.
  static func broadcastPair(_ a: Tensor, _ b: Tensor) -> (Tensor, Tensor) {
    if a.shape == b.shape { return (a, b) }
    guard let s = Shape.broadcast(a.shape, b.shape) else {
      preconditionFailure("shapes \(a.shape) and \(b.shape) do not broadcast")
    }
    return (a.broadcast(to: s), b.broadcast(to: s))
  }

  /// Elementwise sum with broadcasting.
  public static func + (a: Tensor, b: Tensor) -> Tensor {
    let (x, y) = broadcastPair(a, b)
    return binary(.add, .add, x, y)
  }
  /// Elementwise difference with broadcasting.
  public static func - (a: Tensor, b: Tensor) -> Tensor {
    let (x, y) = broadcastPair(a, b)
    return binary(.subtract, .subtract, x, y)
  }
  /// Elementwise product with broadcasting.
  public static func * (a: Tensor, b: Tensor) -> Tensor {
    let (x, y) = broadcastPair(a, b)
    return binary(.multiply, .multiply, x, y)
  }
  /// Elementwise quotient with broadcasting.
  public static func / (a: Tensor, b: Tensor) -> Tensor {
    let (x, y) = broadcastPair(a, b)
    return binary(.divide, .divide, x, y)
  }

  /// `x + c` elementwise.
  public static func + (x: Tensor, c: Float) -> Tensor { x.affine(scale: 1, shift: c) }
  /// `c + x` elementwise.
  public static func + (c: Float, x: Tensor) -> Tensor { x.affine(scale: 1, shift: c) }
  /// `x − c` elementwise.
  public static func - (x: Tensor, c: Float) -> Tensor { x.affine(scale: 1, shift: -c) }
  /// `c − x` elementwise.
  public static func - (c: Float, x: Tensor) -> Tensor { x.affine(scale: -1, shift: c) }
  /// `c · x` elementwise.
  public static func * (x: Tensor, c: Float) -> Tensor { x.affine(scale: c, shift: 0) }
  /// `c · x` elementwise.
  public static func * (c: Float, x: Tensor) -> Tensor { x.affine(scale: c, shift: 0) }
  /// `x / c` elementwise (computed as `x · (1/c)`).
  public static func / (x: Tensor, c: Float) -> Tensor { x.affine(scale: 1 / c, shift: 0) }
  /// `c / x` elementwise.
  public static func / (c: Float, x: Tensor) -> Tensor { x.reciprocal().affine(scale: c, shift: 0) }

  /// Adds `b` into `a`.
  public static func += (a: inout Tensor, b: Tensor) { a = a + b }
  /// Subtracts `b` from `a`.
  public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
  /// Multiplies `a` by `b`.
  public static func *= (a: inout Tensor, b: Tensor) { a = a * b }

  /// Elementwise `x²`.
  public func squared() -> Tensor { self * self }

  /// Elementwise `x^p` for a constant exponent, as `exp(p · log x)` (positive inputs).
  public func raised(to p: Float) -> Tensor { (log() * p).exp() }

  /// Elementwise sign (−1, 0 or 1) as a constant: its derivative is zero almost everywhere.
  public func sign() -> Tensor {
    let out = TensorStorage(uninitializedCount: elementCount)
    Elementwise.map(.sign, storage.base, out.base, count: elementCount)
    return Tensor(shape: shape, storage: out)
  }

  /// Elementwise absolute value, `x · sign(x)` (subgradient 0 at 0).
  public func abs() -> Tensor { self * sign() }

  /// Clamps every element to `range`; the gradient is 1 inside the range and 0 where clamped.
  public func clamped(to range: ClosedRange<Float>) -> Tensor {
    if !(requiresGradient && GradMode.isEnabled) {
      // NOTE: nothing to differentiate, so one pass instead of the composite's dozen
      // (attack projections clamp twice per step). NaN passes through either way.
      let out = TensorStorage(uninitializedCount: elementCount)
      Elementwise.map(.clamp(lower: range.lowerBound, upper: range.upperBound), storage.base, out.base, count: elementCount)
      return Tensor(shape: shape, storage: out)
    }
    // NaN counts as inside so that it propagates, as in the fast path.
    let inside = ((self .>= range.lowerBound) && (self .<= range.upperBound)) || isNaN
    let below = self .< range.lowerBound, above = self .> range.upperBound
    let constant = below.asTensor * range.lowerBound + above.asTensor * range.upperBound
    return selecting(inside) + constant
  }

  /// Elementwise `mask ? a : b`, broadcasting `a` and `b` to the mask's shape.
  public static func select(_ mask: Mask, _ a: Tensor, _ b: Tensor) -> Tensor {
    a.broadcast(to: mask.shape).selecting(mask) + b.broadcast(to: mask.shape).selecting(!mask)
  }
}
