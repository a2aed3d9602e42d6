import CBLAS

/// Single-precision GEMM through OpenBLAS: `C = alpha·op(A)·op(B) + beta·C`, row-major.
///
/// `op(A)` is `m×k`, `op(B)` is `k×n`, `C` is `m×n`; leading dimensions are row lengths of the
/// stored (untransposed) matrices.
@usableFromInline
func sgemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
           a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
  if m == 0 || n == 0 { return }
  if k == 0 {
    // NOTE: BLAS leaves C untouched (times beta) when k = 0; an empty sum is zero.
    for i in 0..<(m * ldc) { c[i] = beta == 0 ? 0 : c[i] * beta }
    return
  }
  cblas_sgemm(CblasRowMajor,
              transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
              Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
              beta, c, Int32(ldc))
}

/// The OpenBLAS build this process runs with.
public enum BLASRuntime {
  /// The kernel family OpenBLAS selected at load time, e.g. `"SkylakeX"` or `"Haswell"`.
  public static var coreName: String { String(cString: openblas_get_corename()) }
  /// OpenBLAS's build configuration string.
  public static var configuration: String { String(cString: openblas_get_config()) }
  /// The number of threads OpenBLAS uses for one GEMM.
  public static var threadCount: Int { Int(openblas_get_num_threads()) }
  /// Sets the number of threads OpenBLAS uses for one GEMM.
  public static func setThreadCount(_ n: Int) { openblas_set_num_threads(Int32(n)) }
}
