import CBLAS

/// Single-precision GEMM through OpenBLAS: `C = alpha·op(A)·op(B) + beta·C`, row-major.
///
/// `op(A)` is `m×k`, `op(B)` is `k×n`, `C` is `m×n`; leading dimensions are row lengths of the
/// stored (untransposed) matrices.
///
/// NOTE: OpenBLAS runs single-threaded and large products are split into one block of rows
/// (or columns) of `C` per core on the kernels' worker pool (`parallelChunks`). With OpenBLAS's
/// own threads, its idle workers spin in `sched_yield` and fight the Swift kernels' threads for
/// the two cores (measured: 16 % of a training step in `__schedule`/`sched_yield`); one-thread
/// OpenBLAS on parallel row blocks reaches the same GEMM speed (BUILD-NOTES §4, measured with
/// libdispatch's `concurrentPerform`, which the pool replaced).
@usableFromInline
func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
  if m == 0 || n == 0 { return }
  if k == 0 {
    // NOTE: BLAS scales C by beta when k = 0; an empty sum is zero.
    for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : c[i * ldc + j] * beta } }
    return
  }
  BLASRuntime.configureOnce()
  let workers = KernelConfig.workerCount
  let flops = 2 * m * n * k
  if workers == 1 || flops < KernelConfig.parallelGEMMFlops || Swift.max(m, n) < 2 * workers {
    callBLAS(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    return
  }
  let pa = UnsafeSharedConst(a), pb = UnsafeSharedConst(b), pc = UnsafeShared(c)
  let splitRows = m >= n
  let extent = splitRows ? m : n
  parallelRanges(extent, grain: 1) { r in
    if splitRows {
      // Rows r of op(A): row offset in A, or column offset when A is stored transposed.
      let aBlock = transposeA ? pa.pointer + r.lowerBound : pa.pointer + r.lowerBound * lda
      callBLAS(transposeA, transposeB, r.count, n, k, alpha, aBlock, lda, pb.pointer, ldb, beta,
               pc.pointer + r.lowerBound * ldc, ldc)
    } else {
      let bBlock = transposeB ? pb.pointer + r.lowerBound * ldb : pb.pointer + r.lowerBound
      callBLAS(transposeA, transposeB, m, r.count, k, alpha, pa.pointer, lda, bBlock, ldb, beta,
               pc.pointer + r.lowerBound, ldc)
    }
  }
}

/// One OpenBLAS call on the calling thread (for work that is already split across workers).
func sgemmSerial(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                 b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
  if m == 0 || n == 0 { return }
  if k == 0 {
    for i in 0..<m { for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : c[i * ldc + j] * beta } }
    return
  }
  BLASRuntime.configureOnce()
  callBLAS(transposeA, transposeB, m, n, k, 1, a, lda, b, ldb, beta, c, ldc)
}

@inline(__always)
private func callBLAS(_ tA: Bool, _ tB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                      _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                      _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
  cblas_sgemm(CblasRowMajor, tA ? CblasTrans : CblasNoTrans, tB ? CblasTrans : CblasNoTrans,
              Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// The OpenBLAS build this process runs with.
public enum BLASRuntime {
  /// The kernel family OpenBLAS selected at load time, e.g. `"SkylakeX"` or `"Haswell"`.
  public static var coreName: String { String(cString: openblas_get_corename()) }
  /// OpenBLAS's build configuration string.
  public static var configuration: String { String(cString: openblas_get_config()) }
  /// The number of threads one OpenBLAS call of the engine uses: 1, since the engine splits
  /// large products across cores itself. Reading it pins OpenBLAS as the engine's first GEMM
  /// would, so a report made before any GEMM ran does not show OpenBLAS's default instead.
  public static var threadCount: Int {
    configureOnce()
    return Int(openblas_get_num_threads())
  }

  private static let configured: Bool = {
    openblas_set_num_threads(1)
    return true
  }()

  /// Pins OpenBLAS to one thread per call, once per process.
  static func configureOnce() { _ = configured }
}
