extension Tensor {
  /// A constant tensor of `shape` filled with `value`.
  public static func full(_ value: Float, shape: Shape) -> Tensor {
    Tensor(shape: shape, storage: TensorStorage(count: shape.elementCount, repeating: value))
  }

  /// A constant tensor of zeros.
  public static func zeros(_ shape: Shape) -> Tensor { full(0, shape: shape) }

  /// A constant tensor of ones.
  public static func ones(_ shape: Shape) -> Tensor { full(1, shape: shape) }

  /// Zeros shaped like `other`.
  public static func zeros(like other: Tensor) -> Tensor { zeros(other.shape) }

  /// Ones shaped like `other`.
  public static func ones(like other: Tensor) -> Tensor { ones(other.shape) }

  /// The values `start, start + step, …` below `end`, as a rank-1 constant.
  public static func arange(_ start: Float = 0, _ end: Float, step: Float = 1) -> Tensor {
    precondition(step != 0, "arange step must be non-zero")
    let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
    var values = [Float](repeating: 0, count: n)
    for i in 0..<n { values[i] = start + Float(i) * step }
    return Tensor(values, shape: [n])
  }

  /// Elements drawn independently and uniformly from `range` with `generator`.
  public static func uniform(
    _ shape: Shape, in range: ClosedRange<Float> = 0...1,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let s = TensorStorage(uninitializedCount: shape.elementCount)
    let width = range.upperBound - range.lowerBound
    for i in 0..<s.count { s.base[i] = range.lowerBound + width * generator.nextUnitFloat() }
    return Tensor(shape: shape, storage: s)
  }

  /// Elements drawn independently from `N(mean, standardDeviation²)` with `generator`
  /// (Box–Muller).
  public static func normal(
    _ shape: Shape, mean: Float = 0, standardDeviation: Float = 1,
    using generator: inout some RandomNumberGenerator
  ) -> Tensor {
    let s = TensorStorage(uninitializedCount: shape.elementCount)
    var i = 0
    while i < s.count {
      let (z0, z1) = generator.nextStandardNormalPair()
      s.base[i] = mean + standardDeviation * z0
      if i + 1 < s.count { s.base[i + 1] = mean + standardDeviation * z1 }
      i += 2
    }
    return Tensor(shape: shape, storage: s)
  }

  /// A one-hot matrix `[labels.count, classes]` with a 1 at `(n, labels[n])`.
  public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
    let s = TensorStorage(count: labels.count * classes, repeating: 0)
    for (n, y) in labels.enumerated() {
      precondition(y >= 0 && y < classes, "label \(y) outside 0..<\(classes)")
      s.base[n * classes + y] = 1
    }
    return Tensor(shape: [labels.count, classes], storage: s)
  }
}
