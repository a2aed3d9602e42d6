/// A fixed-size, 64-byte aligned buffer of `Float` shared by tensors.
///
/// Storage is never resized. Tensors share it copy-on-write: a mutating accessor copies it
/// unless the tensor holds the only reference, so values saved by the autodiff graph never
/// change behind the graph's back.
public final class TensorStorage: @unchecked Sendable {
  @usableFromInline let base: UnsafeMutablePointer<Float>
  /// The number of `Float` elements.
  public let count: Int

  /// Allocates `count` uninitialized elements (callers write every element before reading).
  @usableFromInline
  init(uninitializedCount count: Int) {
    self.count = count
    let raw = BufferPool.shared.allocate(byteCount: count * MemoryLayout<Float>.stride)
    base = raw.bindMemory(to: Float.self, capacity: Swift.max(count, 1))
  }

  /// Allocates `count` elements set to `value`.
  @usableFromInline
  convenience init(count: Int, repeating value: Float) {
    self.init(uninitializedCount: count)
    base.initialize(repeating: value, count: count)
  }

  /// Copies `values` into new storage.
  @usableFromInline
  convenience init<C: Collection>(copying values: C) where C.Element == Float {
    self.init(uninitializedCount: values.count)
    var i = 0
    for v in values { base[i] = v; i += 1 }
  }

  /// A full copy of this storage.
  @usableFromInline
  func copy() -> TensorStorage {
    let s = TensorStorage(uninitializedCount: count)
    s.base.update(from: base, count: count)
    return s
  }

  @inlinable var buffer: UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: base, count: count)
  }

  deinit { BufferPool.shared.release(UnsafeMutableRawPointer(base), byteCount: count * MemoryLayout<Float>.stride) }
}
