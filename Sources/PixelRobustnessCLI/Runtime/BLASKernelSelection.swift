import Foundation

/// Picks OpenBLAS's AVX-512 kernels on CPUs it does not recognise.
///
/// Debian's OpenBLAS 0.3.21 does not know AMD Zen 5 and falls back to its AVX2 ("Haswell")
/// kernels: 229 GFLOP/s for sgemm 1024³ on 2 threads, against 434 with
/// `OPENBLAS_CORETYPE=SkylakeX`. OpenBLAS reads the variable in a load-time constructor, so
/// setting it in `main` is too late: the process re-executes itself once with it set.
public enum BLASKernelSelection {
  /// If the CPU lists `avx512f`, and neither `OPENBLAS_CORETYPE` nor
  /// `PIXELROBUST_NO_REEXEC` is set, re-executes this program with
  /// `OPENBLAS_CORETYPE=SkylakeX`. Returns normally when nothing needs doing or exec fails.
  public static func reexecuteWithFastKernelsIfNeeded() {
    let env = ProcessInfo.processInfo.environment
    guard env["OPENBLAS_CORETYPE"] == nil, env["PIXELROBUST_NO_REEXEC"] == nil, cpuHasAVX512F else { return }
    setenv("OPENBLAS_CORETYPE", "SkylakeX", 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
    // exec failed (e.g. no /proc): carry on with the default kernels.
    unsetenv("OPENBLAS_CORETYPE")
  }

  /// Whether `/proc/cpuinfo` lists the AVX-512 foundation instructions.
  public static var cpuHasAVX512F: Bool {
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return false }
    return info.split(separator: "\n").contains { $0.hasPrefix("flags") && $0.split(separator: " ").contains("avx512f") }
  }
}
