import Synchronization

/// A cache of large, freed tensor buffers, reused by size class.
///
/// NOTE: glibc serves large allocations with fresh `mmap`ed pages, and first-touching a new
/// 16 MB buffer costs ~4,000 page faults — measured here as 4–8 ms for a ReLU whose
/// arithmetic takes 1 ms. Training and attack loops allocate the same sizes every step, so
/// recycling buffers removes that cost (PyTorch's caching allocator does the same).
final class BufferPool: Sendable {
  static let shared = BufferPool(capacityBytes: 1 << 30)

  /// Buffers below this size come straight from malloc, which recycles them cheaply.
  static let minimumPooledBytes = 1 << 16

  /// A raw buffer owned by the pool; only one thread holds it at a time.
  private struct Block: @unchecked Sendable { let pointer: UnsafeMutableRawPointer }

  private struct State {
    var free: [Int: [Block]] = [:]
    var cachedBytes = 0
  }
  private let state = Mutex(State())
  private let capacityBytes: Int

  init(capacityBytes: Int) { self.capacityBytes = capacityBytes }

  /// The size class of a request: rounded up to an eighth of its power of two, so reuse
  /// wastes at most 12.5 %.
  static func sizeClass(_ bytes: Int) -> Int {
    if bytes < minimumPooledBytes { return bytes }
    let top = Int.bitWidth - (bytes - 1).leadingZeroBitCount
    let step = 1 << Swift.max(top - 4, 6)
    return (bytes + step - 1) / step * step
  }

  func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
    let size = BufferPool.sizeClass(byteCount)
    if size >= BufferPool.minimumPooledBytes {
      let reused: Block? = state.withLock { s in
        guard let block = s.free[size]?.popLast() else { return nil }
        s.cachedBytes -= size
        return block
      }
      if let reused { return reused.pointer }
    }
    return UnsafeMutableRawPointer.allocate(byteCount: Swift.max(size, 4), alignment: 64)
  }

  func release(_ pointer: UnsafeMutableRawPointer, byteCount: Int) {
    let size = BufferPool.sizeClass(byteCount)
    if size >= BufferPool.minimumPooledBytes {
      let kept = state.withLock { s -> Bool in
        guard s.cachedBytes + size <= capacityBytes else { return false }
        s.free[size, default: []].append(Block(pointer: pointer))
        s.cachedBytes += size
        return true
      }
      if kept { return }
    }
    pointer.deallocate()
  }
}
