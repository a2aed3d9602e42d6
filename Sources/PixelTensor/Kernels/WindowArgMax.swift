/// Window arg-max for max pooling.
enum Pooling {
  /// For each output position `(n, c, oy, ox)`, the flat index into `x` of the window's first
  /// maximal element (NaN wins, as in PyTorch). Padding is skipped, never selected.
  static func windowArgMax(_ g: ConvGeometry, x: UnsafePointer<Float>) -> IndexStorage {
    let oh = g.outHeight, ow = g.outWidth
    let out = IndexStorage(count: g.batch * g.channels * oh * ow)
    let plane = g.height * g.width
    var o = 0
    for nc in 0..<(g.batch * g.channels) {
      let base = nc * plane
      for oy in 0..<oh {
        let y0 = oy * g.strideY - g.paddingY
        for ox in 0..<ow {
          let x0 = ox * g.strideX - g.paddingX
          var best = -1
          var bestValue = -Float.infinity
          scan: for ky in 0..<g.kernelHeight {
            let iy = y0 + ky
            if iy < 0 || iy >= g.height { continue }
            for kx in 0..<g.kernelWidth {
              let ix = x0 + kx
              if ix < 0 || ix >= g.width { continue }
              let j = base + iy * g.width + ix
              let v = x[j]
              if v.isNaN { best = j; break scan }
              if best < 0 || v > bestValue { best = j; bestValue = v }
            }
          }
          out.base[o] = Int32(best)
          o += 1
        }
      }
    }
    return out
  }
}
