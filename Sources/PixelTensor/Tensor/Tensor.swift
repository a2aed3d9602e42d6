/// A dense, row-major array of `Float` values that can take part in reverse-mode
/// differentiation to any order.
///
/// Images use the layout `[batch, channels, height, width]` with pixel values in `0...1`.
/// Storage is shared copy-on-write, so a tensor saved by the autodiff graph never changes
/// behind the graph's back.
///
/// A tensor is a *constant* unless it was created by ``requiringGradient()`` or computed,
/// while ``GradMode/isEnabled`` is `true`, from a tensor that requires a gradient. Constants
/// carry no graph cost.
public struct Tensor: Sendable {
  /// The extents of each axis.
  public let shape: Shape
  @usableFromInline internal var storage: TensorStorage
  @usableFromInline internal var node: GraphNode?

  @usableFromInline
  init(shape: Shape, storage: TensorStorage, node: GraphNode? = nil) {
    precondition(shape.elementCount == storage.count,
                 "shape \(shape) needs \(shape.elementCount) elements, storage has \(storage.count)")
    self.shape = shape
    self.storage = storage
    self.node = node
  }

  /// Creates a constant tensor from `values` in row-major order.
  /// - Precondition: `values.count == shape.elementCount`.
  public init(_ values: [Float], shape: Shape) {
    precondition(values.count == shape.elementCount,
                 "\(values.count) values do not fill shape \(shape)")
    self.init(shape: shape, storage: TensorStorage(copying: values))
  }

  /// Creates a rank-0 constant tensor holding `value`.
  public init(_ value: Float) {
    self.init(shape: [], storage: TensorStorage(count: 1, repeating: value))
  }

  /// The number of elements.
  @inlinable public var elementCount: Int { shape.elementCount }
  /// The number of axes.
  @inlinable public var rank: Int { shape.rank }

  /// `true` if gradients flow into this tensor.
  public var requiresGradient: Bool { node != nil }

  /// Returns a leaf tensor with the same values that gradients flow into.
  public func requiringGradient() -> Tensor {
    Tensor(shape: shape, storage: storage, node: GraphNode(leafWithShape: shape))
  }

  /// Returns the same values with no gradient history.
  ///
  /// Use this between attack iterations so that the graph does not grow.
  public func detached() -> Tensor { Tensor(shape: shape, storage: storage, node: nil) }

  /// The elements in row-major order.
  public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.base, count: storage.count)) }

  /// The single element of a one-element tensor.
  /// - Precondition: `elementCount == 1`.
  public var item: Float {
    precondition(elementCount == 1, "item needs one element, shape is \(shape)")
    return storage.base[0]
  }

  /// Calls `body` with the elements in row-major order.
  @inlinable
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
  }

  /// Calls `body` with mutable access to the elements, copying shared storage first.
  ///
  /// Mutation breaks the link to any recorded computation, so the tensor becomes a constant.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    node = nil
    return try body(storage.buffer)
  }
}
