/// A constant boolean array, the result of a comparison such as `x .> 0`.
///
/// Masks carry no gradient: they select which elements a differentiable ``Tensor/selecting(_:)``
/// keeps. Stored as bytes so that a ReLU mask costs a quarter of its input.
public struct Mask: Sendable {
  /// The extents of each axis.
  public let shape: Shape
  @usableFromInline let storage: ByteStorage

  @usableFromInline
  init(shape: Shape, storage: ByteStorage) {
    precondition(shape.elementCount == storage.count)
    self.shape = shape
    self.storage = storage
  }

  /// Creates a mask from booleans in row-major order.
  public init(_ values: [Bool], shape: Shape) {
    precondition(values.count == shape.elementCount, "\(values.count) values do not fill \(shape)")
    let s = ByteStorage(count: values.count)
    for (i, v) in values.enumerated() { s.base[i] = v ? 1 : 0 }
    self.init(shape: shape, storage: s)
  }

  /// The elements in row-major order.
  public var values: [Bool] { (0..<storage.count).map { storage.base[$0] != 0 } }

  /// The number of `true` elements.
  public var trueCount: Int {
    var n = 0
    for i in 0..<storage.count where storage.base[i] != 0 { n += 1 }
    return n
  }

  /// 1 where the mask is `true`, 0 elsewhere, as a constant tensor.
  public var asTensor: Tensor {
    let out = TensorStorage(uninitializedCount: storage.count)
    for i in 0..<storage.count { out.base[i] = storage.base[i] != 0 ? 1 : 0 }
    return Tensor(shape: shape, storage: out)
  }

  /// Elementwise negation.
  public static prefix func ! (m: Mask) -> Mask {
    let s = ByteStorage(count: m.storage.count)
    for i in 0..<s.count { s.base[i] = m.storage.base[i] == 0 ? 1 : 0 }
    return Mask(shape: m.shape, storage: s)
  }

  /// Elementwise and; shapes must match.
  public static func && (a: Mask, b: Mask) -> Mask { combine(a, b) { $0 & $1 } }
  /// Elementwise or; shapes must match.
  public static func || (a: Mask, b: Mask) -> Mask { combine(a, b) { $0 | $1 } }

  private static func combine(_ a: Mask, _ b: Mask, _ f: (UInt8, UInt8) -> UInt8) -> Mask {
    precondition(a.shape == b.shape, "mask shapes \(a.shape) and \(b.shape) differ")
    let s = ByteStorage(count: a.storage.count)
    for i in 0..<s.count { s.base[i] = f(a.storage.base[i], b.storage.base[i]) }
    return Mask(shape: a.shape, storage: s)
  }
}

/// A fixed-size buffer of a trivial type; callers write every element before reading.
@usableFromInline
final class FixedBuffer<Element>: @unchecked Sendable {
  @usableFromInline let base: UnsafeMutablePointer<Element>
  @usableFromInline let count: Int
  @usableFromInline init(count: Int) {
    self.count = count
    base = .allocate(capacity: Swift.max(count, 1))
  }
  deinit { base.deallocate() }
}

/// Mask storage: one byte per element.
@usableFromInline typealias ByteStorage = FixedBuffer<UInt8>
/// Gather/scatter indices.
@usableFromInline typealias IndexStorage = FixedBuffer<Int32>

/// Flat element indices for ``Tensor/gathering(_:shape:)`` and
/// ``Tensor/scatteringAdd(_:into:)``: a constant, like a mask.
///
/// An index buffer may be *blocked*: split into `blocks` equal runs, run `b` pointing only into
/// the `b`-th equal part of the indexed tensor. Max pooling's indices are blocked by plane, which
/// lets its scatter (the pooling derivative) zero and fill each plane while it is in cache, on
/// all cores, instead of clearing the whole activation first and then scattering on one thread.
public struct IndexBuffer: Sendable {
  @usableFromInline let storage: IndexStorage
  /// The number of equal runs the indices fall into (1: unblocked).
  public let blocks: Int
  /// The number of indices.
  public var count: Int { storage.count }

  /// Wraps flat (row-major) indices.
  public init(_ indices: [Int]) {
    let s = IndexStorage(count: indices.count)
    for (i, v) in indices.enumerated() { s.base[i] = Int32(truncatingIfNeeded: v) }
    self.init(storage: s)
  }

  /// Wraps indices whose `blocks` equal runs each point into one equal part of the indexed
  /// tensor; gather and scatter check every index against its part.
  @usableFromInline init(storage: IndexStorage, blocks: Int = 1) {
    precondition(blocks >= 1 && storage.count % blocks == 0, "\(storage.count) indices do not split into \(blocks) blocks")
    self.storage = storage
    self.blocks = blocks
  }

  /// Max pooling's indices: one block per plane of `planes` (at least one block).
  @usableFromInline static func perPlane(_ storage: IndexStorage, planes: Int) -> IndexBuffer {
    IndexBuffer(storage: storage, blocks: Swift.max(1, planes))
  }

  /// The indices as an array.
  public var indices: [Int] { (0..<storage.count).map { Int(storage.base[$0]) } }
}
