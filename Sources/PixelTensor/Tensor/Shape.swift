/// The dimensions of a row-major tensor, outermost first.
///
/// Images use `[batch, channels, height, width]`. A rank-0 shape (`[]`) holds one scalar.
public struct Shape: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
  /// The extent of each axis, outermost first.
  public var dims: [Int]

  /// Creates a shape from its extents; every extent must be non-negative.
  @inlinable
  public init(_ dims: [Int]) {
    precondition(dims.allSatisfy { $0 >= 0 }, "negative extent in shape \(dims)")
    self.dims = dims
  }

  /// The product of `dims` scaled by `bytesPerElement`, or `nil` when an extent is negative or
  /// the product overflows or exceeds `limit`: for sizes read from files, checked before any
  /// arithmetic on them or any allocation.
  public static func checkedCount(_ dims: [Int], bytesPerElement: Int = 1, limit: Int = Int.max) -> Int? {
    var n = bytesPerElement
    for d in dims {
      guard d >= 0 else { return nil }
      let (p, overflow) = n.multipliedReportingOverflow(by: d)
      guard !overflow else { return nil }
      n = p
    }
    return n <= limit ? n : nil
  }

  /// Creates a shape from an array literal such as `[128, 1, 28, 28]`.
  @inlinable
  public init(arrayLiteral elements: Int...) { self.init(elements) }

  /// The number of axes.
  @inlinable public var rank: Int { dims.count }

  /// The number of elements, the product of the extents (1 for a scalar).
  @inlinable public var elementCount: Int { dims.reduce(1, *) }

  /// The extent of axis `axis`.
  @inlinable public subscript(axis: Int) -> Int { dims[axis] }

  /// Row-major strides in elements: `strides[k] = Π_{j>k} dims[j]`.
  @inlinable
  public var strides: [Int] {
    var s = [Int](repeating: 1, count: dims.count)
    var acc = 1
    for k in stride(from: dims.count - 1, through: 0, by: -1) {
      s[k] = acc
      acc *= dims[k]
    }
    return s
  }

  /// Maps a possibly negative axis (`-1` is the last) to `0..<rank`.
  @inlinable
  public func normalizedAxis(_ axis: Int) -> Int {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "axis \(axis) out of range for shape \(self)")
    return a
  }

  /// The NumPy broadcast of two shapes: axes are aligned on the right and an extent of 1
  /// stretches to match. Returns `nil` when the shapes are incompatible.
  public static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
    let r = Swift.max(a.rank, b.rank)
    var out = [Int](repeating: 1, count: r)
    for k in 0..<r {
      let da = k < r - a.rank ? 1 : a.dims[k - (r - a.rank)]
      let db = k < r - b.rank ? 1 : b.dims[k - (r - b.rank)]
      if da == db || db == 1 { out[k] = da } else if da == 1 { out[k] = db } else { return nil }
    }
    return Shape(out)
  }

  /// Whether this shape broadcasts to `target` (right-aligned, extents equal or 1).
  public func isBroadcastable(to target: Shape) -> Bool {
    guard rank <= target.rank else { return false }
    let offset = target.rank - rank
    for k in 0..<rank where dims[k] != 1 && dims[k] != target.dims[k + offset] { return false }
    return true
  }

  public var description: String { "[" + dims.map(String.init).joined(separator: ", ") + "]" }
}
