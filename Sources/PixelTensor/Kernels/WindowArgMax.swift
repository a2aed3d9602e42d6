/// Window arg-max for max pooling.
enum Pooling {
  /// For each output position `(n, c, oy, ox)`, the flat index into `x` of the window's first
  /// maximal element (NaN wins, as in PyTorch). Padding is skipped, never selected.
  /// Planes run in parallel; they write disjoint parts of the output.
  /// Also writes each window's maximum to `values` (the gather, fused into the same pass over
  /// the planes while they are in cache).
  static func windowArgMax(_ g: ConvGeometry, x: UnsafePointer<Float>, values: UnsafeMutablePointer<Float>,
                           tolerance: Float) -> IndexStorage {
    let planes = g.batch * g.channels
    let out = IndexStorage(count: planes * g.outHeight * g.outWidth)
    let xs = UnsafeSharedConst(x), os = UnsafeShared(out.base), vs = UnsafeShared(values)
    let perPlane = g.outHeight * g.outWidth * g.kernelHeight * g.kernelWidth
    parallelRanges(planes, grain: Swift.max(1, KernelConfig.memoryBoundGrain / 2 / Swift.max(perPlane, 1))) { range in
      argMax(g, x: xs.pointer, planes: range, indices: os.pointer, values: vs.pointer, tolerance: tolerance)
    }
    return out
  }

  /// ``windowArgMax(_:x:values:tolerance:)`` for the planes `planes` only, on the calling thread: what a
  /// fused convolution runs on each chunk of its output while the chunk is in cache.
  static func argMax(_ g: ConvGeometry, x: UnsafePointer<Float>, planes: Range<Int>, indices: UnsafeMutablePointer<Int32>,
                     values: UnsafeMutablePointer<Float>, tolerance: Float) {
    let size = g.outHeight * g.outWidth
    let pairwise = g.kernelHeight == 2 && g.kernelWidth == 2 && g.strideY == 2 && g.strideX == 2
      && g.paddingY == 0 && g.paddingX == 0
    for plane in planes {
      let o = indices + plane * size, v = values + plane * size
      if pairwise {
        planeArgMax2x2(g, x: x, plane: plane, out: o, values: v, tolerance: tolerance)
      } else {
        planeArgMax(g, x: x, plane: plane, out: o, tolerance: tolerance)
        for i in 0..<size { v[i] = x[Int(o[i])] }
      }
    }
  }

  /// `best + τ·|best|`: the value a window element must exceed to beat `best` under the relative
  /// tie tolerance `τ` (see ``MaxPoolTies``), so the earlier element wins a tie.
  @inline(__always)
  static func above(_ best: Float, _ tolerance: Float) -> Float { best + Swift.abs(best) * tolerance }

  // The vector forms take |best| by clearing the sign bit (SIMD `addingProduct` and `abs` are
  // not lowered to single vector instructions here): the tournament stays a few instructions per
  // eight windows.
  @inline(__always)
  static func above(_ best: SIMD8<Float>, _ tolerance: Float) -> SIMD8<Float> {
    let magnitude = unsafeBitCast(unsafeBitCast(best, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF, to: SIMD8<Float>.self)
    return best + magnitude * tolerance
  }

  @inline(__always)
  static func above(_ best: SIMD4<Float>, _ tolerance: Float) -> SIMD4<Float> {
    let magnitude = unsafeBitCast(unsafeBitCast(best, to: SIMD4<UInt32>.self) & 0x7FFF_FFFF, to: SIMD4<Float>.self)
    return best + magnitude * tolerance
  }

  /// One plane's arg-max. Comparisons are written as selects so the compiler emits
  /// conditional moves: on real activations `v > best` is a coin flip, and a mispredicted
  /// branch per element made this loop 23 % of a training step. NaN is tracked with a
  /// branch-free flag and resolved by a rescan of the rare windows that hold one.
  @inline(__always)
  static func planeArgMax(_ g: ConvGeometry, x: UnsafePointer<Float>, plane: Int, out: UnsafeMutablePointer<Int32>,
                          tolerance: Float) {
    let oh = g.outHeight, ow = g.outWidth, w = g.width, h = g.height
    let kh = g.kernelHeight, kw = g.kernelWidth
    let base = plane &* h &* w
    var o = 0
    for oy in 0..<oh {
      let y0 = oy &* g.strideY &- g.paddingY
      let yFirst = Swift.max(0, y0), yEnd = Swift.min(h, y0 &+ kh)
      for ox in 0..<ow {
        let x0 = ox &* g.strideX &- g.paddingX
        let xFirst = Swift.max(0, x0), xEnd = Swift.min(w, x0 &+ kw)
        var best = base &+ yFirst &* w &+ xFirst
        var bestValue = x[best]
        var sawNaN = bestValue.isNaN
        for iy in yFirst..<yEnd {
          let row = base &+ iy &* w
          for ix in xFirst..<xEnd {
            let j = row &+ ix
            let v = x[j]
            let better = v > above(bestValue, tolerance)
            best = better ? j : best
            bestValue = better ? v : bestValue
            sawNaN = sawNaN || v.isNaN
          }
        }
        if sawNaN { best = firstNaN(x, base: base, w: w, yFirst, yEnd, xFirst, xEnd) }
        out[o] = Int32(truncatingIfNeeded: best)
        o &+= 1
      }
    }
  }

  /// The common 2×2, stride-2 window as a two-level tournament: (a, b) and (c, d), then the
  /// winners. Ties keep the earlier element at each level, so the first maximum wins, as in
  /// the general loop; the chains are two selects deep instead of four. The winners' values are
  /// written in the same pass, so no second pass gathers them.
  @inline(__always)
  static func planeArgMax2x2(_ g: ConvGeometry, x: UnsafePointer<Float>, plane: Int, out: UnsafeMutablePointer<Int32>,
                             values: UnsafeMutablePointer<Float>, tolerance: Float) {
    let oh = g.outHeight, ow = g.outWidth, w = g.width
    let base = plane &* g.height &* w
    for oy in 0..<oh {
      let top = base &+ (2 &* oy) &* w
      let bottom = top &+ w
      let o = out + oy &* ow, v = values + oy &* ow
      var sawNaN = false
      var ox = 0
      // Eight windows at a time: the even and odd lanes of 16 floats are the windows' left
      // and right columns.
      let raw = UnsafeRawPointer(x)
      let top32 = Int32(truncatingIfNeeded: top), bottom32 = Int32(truncatingIfNeeded: bottom)
      while 2 &* (ox &+ 8) <= w {
        let t = raw.loadUnaligned(fromByteOffset: (top &+ 2 &* ox) &* 4, as: SIMD16<Float>.self)
        let bt = raw.loadUnaligned(fromByteOffset: (bottom &+ 2 &* ox) &* 4, as: SIMD16<Float>.self)
        let a = t.evenHalf, b = t.oddHalf, c = bt.evenHalf, d = bt.oddHalf
        let upper = b .> above(a, tolerance), lower = d .> above(c, tolerance)
        let u = a.replacing(with: b, where: upper), l = c.replacing(with: d, where: lower)
        let lane = SIMD8<Int32>(0, 2, 4, 6, 8, 10, 12, 14) &+ Int32(truncatingIfNeeded: 2 &* ox)
        let ui = (lane &+ top32).replacing(with: lane &+ (top32 &+ 1), where: upper)
        let li = (lane &+ bottom32).replacing(with: lane &+ (bottom32 &+ 1), where: lower)
        let lowerWins = l .> above(u, tolerance)
        UnsafeMutableRawPointer(o + ox).storeBytes(of: ui.replacing(with: li, where: lowerWins), as: SIMD8<Int32>.self)
        UnsafeMutableRawPointer(v + ox).storeBytes(of: u.replacing(with: l, where: lowerWins), as: SIMD8<Float>.self)
        sawNaN = sawNaN || any((a .!= a) .| (b .!= b) .| (c .!= c) .| (d .!= d))
        ox &+= 8
      }
      // Then four at a time (a 26-wide map has 13 windows a row: 8 + 4 + 1).
      while 2 &* (ox &+ 4) <= w {
        let t = raw.loadUnaligned(fromByteOffset: (top &+ 2 &* ox) &* 4, as: SIMD8<Float>.self)
        let bt = raw.loadUnaligned(fromByteOffset: (bottom &+ 2 &* ox) &* 4, as: SIMD8<Float>.self)
        let a = t.evenHalf, b = t.oddHalf, c = bt.evenHalf, d = bt.oddHalf
        let upper = b .> above(a, tolerance), lower = d .> above(c, tolerance)
        let u = a.replacing(with: b, where: upper), l = c.replacing(with: d, where: lower)
        let lane = SIMD4<Int32>(0, 2, 4, 6) &+ Int32(truncatingIfNeeded: 2 &* ox)
        let ui = (lane &+ top32).replacing(with: lane &+ (top32 &+ 1), where: upper)
        let li = (lane &+ bottom32).replacing(with: lane &+ (bottom32 &+ 1), where: lower)
        let lowerWins = l .> above(u, tolerance)
        UnsafeMutableRawPointer(o + ox).storeBytes(of: ui.replacing(with: li, where: lowerWins), as: SIMD4<Int32>.self)
        UnsafeMutableRawPointer(v + ox).storeBytes(of: u.replacing(with: l, where: lowerWins), as: SIMD4<Float>.self)
        sawNaN = sawNaN || any((a .!= a) .| (b .!= b) .| (c .!= c) .| (d .!= d))
        ox &+= 4
      }
      while ox < ow {
        let j = 2 &* ox
        let a = x[top &+ j], b = x[top &+ j &+ 1], c = x[bottom &+ j], d = x[bottom &+ j &+ 1]
        let upper = b > above(a, tolerance), lower = d > above(c, tolerance)
        let u = upper ? b : a, l = lower ? d : c
        let ui = top &+ j &+ (upper ? 1 : 0), li = bottom &+ j &+ (lower ? 1 : 0)
        let lowerWins = l > above(u, tolerance)
        o[ox] = Int32(truncatingIfNeeded: lowerWins ? li : ui)
        v[ox] = lowerWins ? l : u
        sawNaN = sawNaN || a.isNaN || b.isNaN || c.isNaN || d.isNaN
        ox &+= 1
      }
      if sawNaN {
        for ox in 0..<ow {
          let j = 2 * ox
          if x[top + j].isNaN || x[top + j + 1].isNaN || x[bottom + j].isNaN || x[bottom + j + 1].isNaN {
            let first = firstNaN(x, base: base, w: w, 2 * oy, 2 * oy + 2, j, j + 2)
            o[ox] = Int32(first)
            v[ox] = x[first]
          }
        }
      }
    }
  }

  static func firstNaN(_ x: UnsafePointer<Float>, base: Int, w: Int, _ y0: Int, _ y1: Int, _ x0: Int, _ x1: Int) -> Int {
    for iy in y0..<y1 { for ix in x0..<x1 where x[base + iy * w + ix].isNaN { return base + iy * w + ix } }
    preconditionFailure("a NaN was seen but not found")
  }
}
