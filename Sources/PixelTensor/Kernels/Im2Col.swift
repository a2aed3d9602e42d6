/// `im2col` and its adjoint `col2im` for a ``ConvGeometry``.
///
/// The column matrix is `[C·kh·kw, N·oh·ow]`: row `(c, ki, kj)`, column `(n, oy, ox)` holds
/// `x[n, c, oy·sy − py + ki·dy, ox·sx − px + kj·dx]`, or 0 in the padding.
enum Im2Col {
  /// Fills `cols` (`g.patchSize × g.patchCount`) from `x` (`g.inputShape`); rows in parallel.
  static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, cols: UnsafeMutablePointer<Float>, parallel: Bool = true) {
    let xs = UnsafeSharedConst(x), cs = UnsafeShared(cols)
    let rows = g.patchSize
    let work = g.patchCount
    if !parallel {
      for row in 0..<rows { fillRow(g, row: row, x: x, out: cols + row * work) }
      return
    }
    parallelRanges(rows, grain: Swift.max(1, KernelConfig.memoryBoundGrain / 4 / Swift.max(work, 1))) { range in
      for row in range { fillRow(g, row: row, x: xs.pointer, out: cs.pointer + row * work) }
    }
  }

  /// The output columns `ox` of a kernel column whose input column `ox·sx + ix0` lies inside
  /// `0..<w`: `lo..<hi` (empty when none does). Computed once per row, so the inner loops carry
  /// no bounds test and only the padded ends are zero-filled.
  @inline(__always)
  static func validColumns(ix0: Int, stride: Int, outWidth ow: Int, width w: Int) -> (lo: Int, hi: Int) {
    let lo = ix0 >= 0 ? 0 : (-ix0 + stride - 1) / stride
    let hi = w - ix0 <= 0 ? 0 : Swift.min(ow, (w - ix0 + stride - 1) / stride)
    return (Swift.min(lo, hi), hi)
  }

  @inline(__always)
  static func fillRow(_ g: ConvGeometry, row: Int, x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
    let kk = g.kernelHeight * g.kernelWidth
    let c = row / kk, ki = (row % kk) / g.kernelWidth, kj = row % g.kernelWidth
    let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width, sx = g.strideX
    let plane = h * w, l = oh * ow, sampleStride = g.channels * plane
    let ix0 = kj * g.dilationX - g.paddingX
    // Decided once per row: the columns that read the image (a shifted copy at stride 1), the
    // rest padding. The source offset of an output row is the same in every sample, so samples
    // are the inner loop.
    let (lo, hi) = validColumns(ix0: ix0, stride: sx, outWidth: ow, width: w)
    for oy in 0..<oh {
      let iy = oy * g.strideY - g.paddingY + ki * g.dilationY
      var dst = out + oy * ow
      if iy < 0 || iy >= h {
        for _ in 0..<g.batch { dst.initialize(repeating: 0, count: ow); dst += l }
        continue
      }
      var src = x + c * plane + iy * w + ix0
      for _ in 0..<g.batch {
        for ox in 0..<lo { dst[ox] = 0 }
        if sx == 1 {
          copySegment(dst + lo, src + lo, hi - lo)
        } else {
          for ox in lo..<hi { dst[ox] = src[ox * sx] }
        }
        for ox in hi..<ow { dst[ox] = 0 }
        dst += l
        src += sampleStride
      }
    }
  }

  /// `x = col2im(cols)`: every column entry is added back to the pixel it was read from;
  /// padding entries are dropped. Samples run in parallel (each writes only its own image),
  /// which also splits single-channel inputs such as a first layer's.
  static func backward(_ g: ConvGeometry, cols: UnsafePointer<Float>, x: UnsafeMutablePointer<Float>, parallel: Bool = true) {
    if !parallel {
      x.initialize(repeating: 0, count: g.batch * g.channels * g.height * g.width)
      for row in 0..<g.patchSize { addRow(g, row: row, samples: 0..<g.batch, cols: cols + row * g.patchCount, x: x) }
      return
    }
    let xs = UnsafeShared(x), cs = UnsafeSharedConst(cols)
    let perSample = g.patchSize * g.outHeight * g.outWidth
    parallelRanges(g.batch, grain: Swift.max(1, KernelConfig.memoryBoundGrain / 4 / Swift.max(perSample, 1))) { samples in
      let image = g.channels * g.height * g.width
      (xs.pointer + samples.lowerBound * image).initialize(repeating: 0, count: samples.count * image)
      for row in 0..<g.patchSize { addRow(g, row: row, samples: samples, cols: cs.pointer + row * g.patchCount, x: xs.pointer) }
    }
  }

  @inline(__always)
  static func addRow(_ g: ConvGeometry, row: Int, samples: Range<Int>, cols: UnsafePointer<Float>,
                     x: UnsafeMutablePointer<Float>) {
    let kk = g.kernelHeight * g.kernelWidth
    let c = row / kk, ki = (row % kk) / g.kernelWidth, kj = row % g.kernelWidth
    let oh = g.outHeight, ow = g.outWidth, h = g.height, w = g.width, sx = g.strideX
    let plane = h * w, l = oh * ow, sampleStride = g.channels * plane
    let ix0 = kj * g.dilationX - g.paddingX
    let (lo, hi) = validColumns(ix0: ix0, stride: sx, outWidth: ow, width: w)
    guard lo < hi else { return }
    // As in ``fillRow``: output rows outer, samples inner; padding columns are dropped.
    for oy in 0..<oh {
      let iy = oy * g.strideY - g.paddingY + ki * g.dilationY
      if iy < 0 || iy >= h { continue }
      var src = cols + samples.lowerBound * l + oy * ow
      var dst = x + samples.lowerBound * sampleStride + c * plane + iy * w + ix0
      for _ in samples {
        if sx == 1 {
          addSegment(dst + lo, src + lo, hi - lo)
        } else {
          for ox in lo..<hi { dst[ox * sx] += src[ox] }
        }
        dst += sampleStride
        src += l
      }
    }
  }

  /// `dst[0..<n] = src[0..<n]` eight lanes at a time, the last eight lanes overlapping the
  /// previous store: rows of 11 or 26 floats then take two or four vector stores and no scalar
  /// tail, and a `memcpy` call would cost more than the copy.
  @inline(__always)
  static func copySegment(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    guard n >= 8 else {
      for i in 0..<n { dst[i] = src[i] }
      return
    }
    let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
    var i = 0
    while i &+ 8 <= n {
      d.storeBytes(of: s.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self), toByteOffset: i &* 4,
                   as: SIMD8<Float>.self)
      i &+= 8
    }
    if i < n {
      let last = (n &- 8) &* 4
      d.storeBytes(of: s.loadUnaligned(fromByteOffset: last, as: SIMD8<Float>.self), toByteOffset: last,
                   as: SIMD8<Float>.self)
    }
  }

  /// `dst[0..<n] += src[0..<n]` eight lanes at a time: output rows of small feature maps are
  /// short (11 for a 13×13 input), so the per-element loop overhead dominated col2im.
  @inline(__always)
  static func addSegment(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
    var i = 0
    let d = UnsafeMutableRawPointer(dst), s = UnsafeRawPointer(src)
    while i &+ 8 <= n {
      let v = d.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) + s.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
      d.storeBytes(of: v, toByteOffset: i &* 4, as: SIMD8<Float>.self)
      i &+= 8
    }
    while i < n { dst[i] += src[i]; i &+= 1 }
  }
}
