/// Strided copies and accumulations: the one loop behind broadcast, permute, slice, pad,
/// concatenate and sum-to-shape.
enum Strided {
  /// A loop nest over `dims` reading `src` and writing `dst` at the given element strides.
  struct Layout {
    var dims: [Int]
    var srcStrides: [Int]
    var dstStrides: [Int]

    /// Drops unit axes and merges neighbours that are contiguous in both operands, so that
    /// e.g. permuting `[O, N, H, W] → [N, O, H, W]` runs an inner loop of `H·W` unit strides.
    func coalesced() -> Layout {
      var d: [Int] = [], s: [Int] = [], t: [Int] = []
      for k in 0..<dims.count where dims[k] != 1 {
        if let last = d.indices.last, s[last] == srcStrides[k] * dims[k],
           t[last] == dstStrides[k] * dims[k] {
          d[last] *= dims[k]; s[last] = srcStrides[k]; t[last] = dstStrides[k]
        } else {
          d.append(dims[k]); s.append(srcStrides[k]); t.append(dstStrides[k])
        }
      }
      if d.isEmpty { return Layout(dims: [1], srcStrides: [0], dstStrides: [0]) }
      return Layout(dims: d, srcStrides: s, dstStrides: t)
    }
  }

  /// `dst[layout] = src[layout]`, parallel over the outer loop when large.
  static func copy(_ layout: Layout, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>) {
    let l = layout.coalesced()
    let inner = l.dims.last!, si = l.srcStrides.last!, di = l.dstStrides.last!
    let outerDims = Array(l.dims.dropLast())
    let outerCount = outerDims.reduce(1, *)
    let s = UnsafeSharedConst(src), d = UnsafeShared(dst)
    let grain = Swift.max(1, KernelConfig.memoryBoundGrain / Swift.max(inner, 1))
    parallelRanges(outerCount, grain: grain) { range in
      forEachOffset(outerDims, l.srcStrides, l.dstStrides, range) { so, dOff in
        let sp = s.pointer + so, dp = d.pointer + dOff
        if si == 1 && di == 1 {
          dp.update(from: sp, count: inner)
        } else if si == 0 {
          let v = sp.pointee
          for i in 0..<inner { dp[i * di] = v }
        } else {
          for i in 0..<inner { dp[i * di] = sp[i * si] }
        }
      }
    }
  }

  /// `dst[layout] += src[layout]`, where several source elements may land on one destination
  /// element. A large reduction onto a small `dst` (a bias gradient's sum over batch and pixels)
  /// runs on all cores, each into its own partial `dst`; the partials are added in chunk order,
  /// so sums are reproducible for a given core count. Anything else runs on one thread in a
  /// fixed order.
  static func accumulate(_ layout: Layout, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>,
                         dstCount: Int) {
    let l = layout.coalesced()
    let outerDims = Array(l.dims.dropLast())
    let outerCount = outerDims.reduce(1, *)
    let total = outerCount * l.dims.last!
    let chunks = Swift.min(KernelConfig.workerCount, outerCount, total / KernelConfig.memoryBoundGrain)
    guard chunks > 1 && dstCount * 64 <= total else {
      accumulateRange(l, outerDims, 0..<outerCount, src: src, dst: dst)
      return
    }
    let ss = UnsafeSharedConst(src)
    parallelPartialSums(outerCount, parts: chunks, size: dstCount, into: dst) { range, partial in
      accumulateRange(l, outerDims, range, src: ss.pointer, dst: partial)
    }
  }

  /// ``accumulate(_:src:dst:dstCount:)`` over the outer indices `range` of a coalesced layout.
  private static func accumulateRange(_ l: Layout, _ outerDims: [Int], _ range: Range<Int>,
                                      src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>) {
    let inner = l.dims.last!, si = l.srcStrides.last!, di = l.dstStrides.last!
    forEachOffset(outerDims, l.srcStrides, l.dstStrides, range) { so, dOff in
      let sp = src + so, dp = dst + dOff
      if di == 0 {
        dp.pointee += si == 1 ? contiguousSum(sp, inner) : stridedSum(sp, inner, si)
      } else if si == 1 && di == 1 {
        for i in 0..<inner { dp[i] += sp[i] }
      } else {
        for i in 0..<inner { dp[i * di] += sp[i * si] }
      }
    }
  }

  /// `Σ p[0..<n]` with eight partial sums: one dependent add chain per element is
  /// latency-bound (4 cycles each); eight chains vectorize. The order is fixed, so sums stay
  /// reproducible.
  @inline(__always)
  static func contiguousSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
    var lanes = SIMD8<Float>()
    var i = 0
    let raw = UnsafeRawPointer(p)
    while i + 8 <= n {
      lanes += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
      i += 8
    }
    var acc = lanes.sum()
    while i < n { acc += p[i]; i += 1 }
    return acc
  }

  @inline(__always)
  static func stridedSum(_ p: UnsafePointer<Float>, _ n: Int, _ stride: Int) -> Float {
    var acc: Float = 0
    for i in 0..<n { acc += p[i * stride] }
    return acc
  }

  /// Calls `body(srcOffset, dstOffset)` for each outer index in `range` of the loop nest `dims`.
  @inline(__always)
  static func forEachOffset(_ dims: [Int], _ srcStrides: [Int], _ dstStrides: [Int],
                            _ range: Range<Int>, _ body: (Int, Int) -> Void) {
    if range.isEmpty { return }
    let r = dims.count
    if r == 0 { body(0, 0); return }
    var idx = [Int](repeating: 0, count: r)
    var rem = range.lowerBound
    var so = 0, dOff = 0
    for k in stride(from: r - 1, through: 0, by: -1) {
      idx[k] = rem % dims[k]; rem /= dims[k]
      so += idx[k] * srcStrides[k]; dOff += idx[k] * dstStrides[k]
    }
    for _ in range {
      body(so, dOff)
      var k = r - 1
      while k >= 0 {
        idx[k] += 1; so += srcStrides[k]; dOff += dstStrides[k]
        if idx[k] < dims[k] { break }
        so -= srcStrides[k] * dims[k]; dOff -= dstStrides[k] * dims[k]; idx[k] = 0
        k -= 1
      }
    }
  }

  /// Source strides that read `input` broadcast to `output` (0 on stretched axes).
  static func broadcastStrides(input: Shape, output: Shape) -> [Int] {
    let inStrides = input.strides
    let offset = output.rank - input.rank
    return (0..<output.rank).map { k in
      k < offset || input.dims[k - offset] == 1 ? 0 : inStrides[k - offset]
    }
  }
}
