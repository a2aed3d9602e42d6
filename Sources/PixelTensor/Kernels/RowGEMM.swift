import CKernels

/// `C = A·op(B) (+ bias per column)` computed row by row, each entry one chain of fused
/// multiply-adds in increasing `k` (`CKernels.pr_row_gemm`).
///
/// Why not OpenBLAS here: products whose rows are examples (a linear layer's forward pass and
/// its input gradient) must give an example the same bits whatever the batch size, its place
/// in the batch or the CPU. OpenBLAS's result for a row depends on the edge blocking of `M` and
/// on the kernel it picks (Haswell and SkylakeX block `K` differently). Products that sum over
/// the batch (`transposeA`, weight gradients) stay on OpenBLAS.
enum RowGEMM {
  /// `c[m, n] = bias[n] + Σ_k a[m, k]·op(b)[k, n]`; `b` is `[k, n]`, or `[n, k]` with
  /// `transposeB` (then copied transposed once, so the kernel reads rows).
  static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       transposeB: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int,
                       kernelPath: PRKernelPath = DirectConvolution.path) {
    if m == 0 || n == 0 { return }
    var transposed: TensorStorage? = nil
    if transposeB {
      let t = TensorStorage(uninitializedCount: k * n)
      transpose(b, rows: n, columns: k, ld: ldb, into: t.base)
      transposed = t
    }
    let bp = UnsafeSharedConst(transposed.map { UnsafePointer($0.base) } ?? b), ldbRows = transposeB ? n : ldb
    let ap = UnsafeSharedConst(a), cp = UnsafeShared(c), biasp = bias.map { UnsafeSharedConst($0) }
    // Whole six-row tiles per worker: a split never changes a row's arithmetic, only who runs it.
    let tiles = (m + 5) / 6
    let chunks = 2 * m * n * k < KernelConfig.parallelGEMMFlops ? 1 : Swift.min(KernelConfig.workerCount, tiles)
    parallelChunks(tiles, chunks: chunks) { _, range in
      let first = range.lowerBound * 6, last = Swift.min(m, range.upperBound * 6)
      guard first < last else { return }
      pr_row_gemm(Int32(first), Int32(last - first), Int32(n), Int32(k), ap.pointer, lda, bp.pointer, ldbRows,
                  biasp?.pointer, cp.pointer, ldc, kernelPath)
    }
    withExtendedLifetime(transposed) {}
  }

  /// `out[j, i] = src[i, j]` for a `rows × columns` matrix with row length `ld`, in 16×16 tiles
  /// so both sides stay in cache.
  static func transpose(_ src: UnsafePointer<Float>, rows: Int, columns: Int, ld: Int,
                        into out: UnsafeMutablePointer<Float>) {
    let tile = 16
    for i0 in stride(from: 0, to: rows, by: tile) {
      for j0 in stride(from: 0, to: columns, by: tile) {
        for i in i0..<Swift.min(rows, i0 + tile) {
          for j in j0..<Swift.min(columns, j0 + tile) { out[j * rows + i] = src[i * ld + j] }
        }
      }
    }
  }
}
