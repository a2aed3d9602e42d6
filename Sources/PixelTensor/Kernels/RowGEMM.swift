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
  /// `transposeB` (the kernel copies it into column panels either way).
  static func multiply(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                       transposeB: Bool, bias: UnsafePointer<Float>?, c: UnsafeMutablePointer<Float>, ldc: Int,
                       kernelPath: PRKernelPath = DirectConvolution.path) {
    if m == 0 || n == 0 { return }
    let ap = UnsafeSharedConst(a), bp = UnsafeSharedConst(b), cp = UnsafeShared(c)
    let biasp = bias.map { UnsafeSharedConst($0) }
    // Whole tiles per worker: a split never changes a row's arithmetic, only who runs it.
    let tileRows = Int(PRRowGEMMTileRows), tiles = (m + tileRows - 1) / tileRows
    let chunks = 2 * m * n * k < KernelConfig.parallelGEMMFlops ? 1 : Swift.min(KernelConfig.workerCount, tiles)
    parallelChunks(tiles, chunks: chunks) { _, range in
      let first = range.lowerBound * tileRows, last = Swift.min(m, range.upperBound * tileRows)
      guard first < last else { return }
      let panel = TensorStorage(uninitializedCount: Swift.max(k, 1) * Int(PRRowGEMMPanelColumns))
      pr_row_gemm(Int32(first), Int32(last - first), Int32(n), Int32(k), ap.pointer, lda, bp.pointer, ldb,
                  transposeB ? 1 : 0, biasp?.pointer, cp.pointer, ldc, panel.base, kernelPath)
      withExtendedLifetime(panel) {}
    }
  }
}
