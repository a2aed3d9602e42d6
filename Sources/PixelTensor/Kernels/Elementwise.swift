import Foundation

/// Elementwise loops over raw buffers. Internal: the autodiff layer calls these and wraps
/// the results in tensors.
enum Elementwise {
  /// `dst[i] = f(src[i])` for `i < count`, split across cores when large.

  static func map(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, count: Int,
                  grain: Int = KernelConfig.memoryBoundGrain,
                  _ f: @escaping @Sendable (Float) -> Float) {
    let s = UnsafeSharedConst(src), d = UnsafeShared(dst)
    parallelRanges(count, grain: grain) { r in
      let sp = s.pointer, dp = d.pointer
      for i in r { dp[i] = f(sp[i]) }
    }
  }

  /// `dst[i] = f(a[i], b[i])` for `i < count`.

  static func zip(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                  _ dst: UnsafeMutablePointer<Float>, count: Int,
                  _ f: @escaping @Sendable (Float, Float) -> Float) {
    let pa = UnsafeSharedConst(a), pb = UnsafeSharedConst(b), d = UnsafeShared(dst)
    parallelRanges(count, grain: KernelConfig.memoryBoundGrain) { r in
      let ap = pa.pointer, bp = pb.pointer, dp = d.pointer
      for i in r { dp[i] = f(ap[i], bp[i]) }
    }
  }

  /// `dst[i] = mask[i] ? src[i] : 0` (a true select: `-inf` or NaN off the mask become 0).
  static func select(_ src: UnsafePointer<Float>, _ mask: UnsafePointer<UInt8>,
                     _ dst: UnsafeMutablePointer<Float>, count: Int) {
    let s = UnsafeSharedConst(src), m = UnsafeSharedConst(mask), d = UnsafeShared(dst)
    parallelRanges(count, grain: KernelConfig.memoryBoundGrain) { r in
      let sp = s.pointer, mp = m.pointer, dp = d.pointer
      for i in r { dp[i] = mp[i] != 0 ? sp[i] : 0 }
    }
  }

  /// `mask[i] = f(a[i], b[i])` for a comparison `f`.
  static func compare(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                      _ dst: UnsafeMutablePointer<UInt8>, count: Int,
                      _ f: (Float, Float) -> Bool) {
    for i in 0..<count { dst[i] = f(a[i], b[i]) ? 1 : 0 }
  }
}
