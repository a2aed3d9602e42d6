/// Window arg-max for max pooling.
enum Pooling {
  /// For each output position `(n, c, oy, ox)`, the flat index into `x` of the window's first
  /// maximal element (NaN wins, as in PyTorch). Padding is skipped, never selected.
  /// Planes run in parallel; they write disjoint parts of the output.
  static func windowArgMax(_ g: ConvGeometry, x: UnsafePointer<Float>) -> IndexStorage {
    let oh = g.outHeight, ow = g.outWidth
    let planes = g.batch * g.channels
    let out = IndexStorage(count: planes * oh * ow)
    let xs = UnsafeSharedConst(x), os = UnsafeShared(out.base)
    let perPlane = oh * ow * g.kernelHeight * g.kernelWidth
    parallelRanges(planes, grain: Swift.max(1, KernelConfig.memoryBoundGrain / 2 / Swift.max(perPlane, 1))) { range in
      for plane in range {
        planeArgMax(g, x: xs.pointer, plane: plane, out: os.pointer + plane * oh * ow)
      }
    }
    return out
  }

  @inline(__always)
  static func planeArgMax(_ g: ConvGeometry, x: UnsafePointer<Float>, plane: Int, out: UnsafeMutablePointer<Int32>) {
    let oh = g.outHeight, ow = g.outWidth, w = g.width, h = g.height
    let base = plane * h * w
    var o = 0
    let interior = g.paddingY == 0 && g.paddingX == 0
    for oy in 0..<oh {
      let y0 = oy * g.strideY - g.paddingY
      for ox in 0..<ow {
        let x0 = ox * g.strideX - g.paddingX
        var best = -1
        var bestValue = -Float.infinity
        if interior {
          // Every window position is inside the plane: no bounds tests in the loop.
          var found = false
          scan: for ky in 0..<g.kernelHeight {
            let row = base + (y0 + ky) * w + x0
            for kx in 0..<g.kernelWidth {
              let v = x[row + kx]
              if v.isNaN { best = row + kx; break scan }
              if !found || v > bestValue { best = row + kx; bestValue = v; found = true }
            }
          }
        } else {
          scan: for ky in 0..<g.kernelHeight {
            let iy = y0 + ky
            if iy < 0 || iy >= h { continue }
            for kx in 0..<g.kernelWidth {
              let ix = x0 + kx
              if ix < 0 || ix >= w { continue }
              let j = base + iy * w + ix
              let v = x[j]
              if v.isNaN { best = j; break scan }
              if best < 0 || v > bestValue { best = j; bestValue = v }
            }
          }
        }
        out[o] = Int32(best)
        o += 1
      }
    }
  }
}
