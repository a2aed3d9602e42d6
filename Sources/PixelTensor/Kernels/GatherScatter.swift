/// Flat gather and scatter-add, an adjoint pair: `⟨gather(x), y⟩ = ⟨x, scatterAdd(y)⟩`.
///
/// Both run block by block (see ``IndexBuffer``): block `b` of the indices reads or writes only
/// part `b` of the indexed tensor, so blocks run in parallel and each block's sums keep index
/// order (reproducible).
enum GatherScatter {
  /// `out[i] = x[idx[i]]`.
  static func gather(_ x: UnsafePointer<Float>, count: Int, indices: IndexBuffer, out: UnsafeMutablePointer<Float>) {
    let xs = UnsafeSharedConst(x), os = UnsafeShared(out), idx = UnsafeSharedConst(indices.storage.base)
    let (size, run) = extents(indices, count: count)
    parallelRanges(indices.blocks, grain: grain(size, run)) { blocks in
      for b in blocks {
        let part = (b * size)..<((b + 1) * size)
        for i in (b * run)..<((b + 1) * run) {
          let j = Int(idx.pointer[i])
          precondition(part.contains(j), "gather index \(j) outside \(part)")
          os.pointer[i] = xs.pointer[j]
        }
      }
    }
  }

  /// `out = 0; out[idx[i]] += x[i]` in index order within each block; each block's part is
  /// cleared just before its indices land, while it is in cache.
  static func scatterAdd(_ x: UnsafePointer<Float>, indices: IndexBuffer, out: UnsafeMutablePointer<Float>, count: Int) {
    let xs = UnsafeSharedConst(x), os = UnsafeShared(out), idx = UnsafeSharedConst(indices.storage.base)
    let (size, run) = extents(indices, count: count)
    parallelRanges(indices.blocks, grain: grain(size, run)) { blocks in
      for b in blocks {
        let part = (b * size)..<((b + 1) * size)
        (os.pointer + part.lowerBound).initialize(repeating: 0, count: size)
        for i in (b * run)..<((b + 1) * run) {
          let j = Int(idx.pointer[i])
          precondition(part.contains(j), "scatter index \(j) outside \(part)")
          os.pointer[j] += xs.pointer[i]
        }
      }
    }
  }

  /// The part of the indexed tensor and the run of indices that one block covers.
  private static func extents(_ indices: IndexBuffer, count: Int) -> (part: Int, run: Int) {
    precondition(count % indices.blocks == 0, "\(count) elements do not split into \(indices.blocks) blocks")
    return (count / indices.blocks, indices.count / indices.blocks)
  }

  /// Blocks per worker chunk below which the loop stays on the calling thread.
  private static func grain(_ part: Int, _ run: Int) -> Int {
    Swift.max(1, KernelConfig.memoryBoundGrain / 4 / Swift.max(part + run, 1))
  }
}
