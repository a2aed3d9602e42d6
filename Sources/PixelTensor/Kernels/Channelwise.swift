/// Per-channel kernels over `[N, C, …]` tensors viewed as `N·C` contiguous planes of `plane`
/// floats: batch normalisation's affine map and its reductions in one pass each, with no
/// broadcast copy of the `[C]` operands.
enum Channelwise {
  /// `y[n, c, i] = x[n, c, i]·scale[c] + shift[c]`; planes in parallel.
  static func affine(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                     _ y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int) {
    affine(x, scale: scale, shift: shift, y, batch: batch, channels: channels, plane: plane, clamp: Plain())
  }

  /// `y = relu(x·scale[c] + shift[c] (+ skip[i]))` in one pass, and with `mask`, `mask[i] = 1` where
  /// the value before the clamp is positive (else 0): batch norm, a residual sum and the ReLU after
  /// them, with the bits of the separate passes (the affine value is rounded before `skip` is added).
  static func affineReLU(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                         adding skip: UnsafePointer<Float>? = nil, _ y: UnsafeMutablePointer<Float>,
                         mask: UnsafeMutablePointer<UInt8>?, batch: Int, channels: Int, plane: Int) {
    let bits = mask.map { UnsafeShared($0) }
    if let skip {
      affine(x, scale: scale, shift: shift, y, batch: batch, channels: channels, plane: plane,
             clamp: RectifiedSum(skip: UnsafeSharedConst(skip), rectified: Rectified(mask: bits)))
    } else {
      affine(x, scale: scale, shift: shift, y, batch: batch, channels: channels, plane: plane, clamp: Rectified(mask: bits))
    }
  }

  /// What the affine pass does to each value before storing it (specialised, as ``Term`` is).
  private protocol Clamp: Sendable {
    func lanes(_ v: SIMD8<Float>, at index: Int) -> SIMD8<Float>
    func scalar(_ v: Float, at index: Int) -> Float
  }

  private struct Plain: Clamp {
    func lanes(_ v: SIMD8<Float>, at index: Int) -> SIMD8<Float> { v }
    func scalar(_ v: Float, at index: Int) -> Float { v }
  }

  /// `v > 0 ? v : +0` (NaN → 0, as ``Elementwise``'s ReLU), recording the mask when given one.
  private struct Rectified: Clamp {
    let mask: UnsafeShared<UInt8>?
    @inline(__always) func lanes(_ v: SIMD8<Float>, at index: Int) -> SIMD8<Float> {
      let positive = v .> 0
      if let mask {
        let bytes = SIMD8<UInt8>(truncatingIfNeeded: SIMD8<Int32>(repeating: 0).replacing(with: 1, where: positive))
        UnsafeMutableRawPointer(mask.pointer + index).storeBytes(of: bytes, as: SIMD8<UInt8>.self)
      }
      return SIMD8<Float>(repeating: 0).replacing(with: v, where: positive)
    }
    @inline(__always) func scalar(_ v: Float, at index: Int) -> Float {
      mask?.pointer[index] = v > 0 ? 1 : 0
      return v > 0 ? v : 0
    }
  }

  /// `relu(v + skip[index])`, as ``Rectified``.
  private struct RectifiedSum: Clamp {
    let skip: UnsafeSharedConst<Float>
    let rectified: Rectified
    @inline(__always) func lanes(_ v: SIMD8<Float>, at index: Int) -> SIMD8<Float> {
      rectified.lanes(v + UnsafeRawPointer(skip.pointer + index).loadUnaligned(as: SIMD8<Float>.self), at: index)
    }
    @inline(__always) func scalar(_ v: Float, at index: Int) -> Float { rectified.scalar(v + skip.pointer[index], at: index) }
  }

  private static func affine<C: Clamp>(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                                       _ y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int, clamp: C) {
    let xs = UnsafeSharedConst(x), ss = UnsafeSharedConst(scale), ts = UnsafeSharedConst(shift), ys = UnsafeShared(y)
    parallelRanges(batch * channels, grain: Swift.max(1, KernelConfig.memoryBoundGrain / Swift.max(plane, 1))) { planes in
      for p in planes {
        let a = ss.pointer[p % channels], b = ts.pointer[p % channels]
        let src = xs.pointer + p * plane, dst = ys.pointer + p * plane
        let va = SIMD8<Float>(repeating: a), vb = SIMD8<Float>(repeating: b)
        var i = 0
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        while i &+ 8 <= plane {
          let v = s.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
          d.storeBytes(of: clamp.lanes(v * va + vb, at: p * plane + i), toByteOffset: i &* 4, as: SIMD8<Float>.self)
          i &+= 8
        }
        while i < plane { dst[i] = clamp.scalar(src[i] * a + b, at: p * plane + i); i &+= 1 }
      }
    }
  }

  /// `y[n, c, i] = a[n, c, i]·s[c] + (b[n, c, i]·u[c] + t[c])`; planes in parallel. Batch norm's
  /// input gradient is this one pass over `g` and `x` where two affine maps and their sum wrote
  /// three activation-sized arrays.
  static func affinePair(_ a: UnsafePointer<Float>, scale s: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                         scale u: UnsafePointer<Float>, shift t: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                         batch: Int, channels: Int, plane: Int) {
    let pa = UnsafeSharedConst(a), pb = UnsafeSharedConst(b), ps = UnsafeSharedConst(s), pu = UnsafeSharedConst(u)
    let pt = UnsafeSharedConst(t), ys = UnsafeShared(y)
    parallelRanges(batch * channels, grain: Swift.max(1, KernelConfig.memoryBoundGrain / Swift.max(2 * plane, 1))) { planes in
      for p in planes {
        let c = p % channels
        let sa = ps.pointer[c], sb = pu.pointer[c], shift = pt.pointer[c]
        let va = SIMD8<Float>(repeating: sa), vb = SIMD8<Float>(repeating: sb), vt = SIMD8<Float>(repeating: shift)
        let x1 = pa.pointer + p * plane, x2 = pb.pointer + p * plane, dst = ys.pointer + p * plane
        let r1 = UnsafeRawPointer(x1), r2 = UnsafeRawPointer(x2), d = UnsafeMutableRawPointer(dst)
        var i = 0
        while i &+ 8 <= plane {
          let v1 = r1.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
          let v2 = r2.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
          d.storeBytes(of: v1 * va + (v2 * vb + vt), toByteOffset: i &* 4, as: SIMD8<Float>.self)
          i &+= 8
        }
        while i < plane { dst[i] = x1[i] * sa + (x2[i] * sb + shift); i &+= 1 }
      }
    }
  }

  /// `out[c] = Σ_{n, i} a[n, c, i]·b[n, c, i]`, each plane summed in eight `Float` lanes and the
  /// planes of a channel added in `Double` in sample order, so the result does not depend on the
  /// core count.
  static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                  batch: Int, channels: Int, plane: Int) {
    reduce(Product(other: UnsafeSharedConst(b)), a, out, batch: batch, channels: channels, plane: plane)
  }

  /// `out[c] = Σ_{n, i} x[n, c, i]`, summed as ``dot(_:_:_:batch:channels:plane:)`` sums (a
  /// channel's sum of gradients in batch norm, and bias gradients).
  static func sum(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int) {
    reduce(Identity(), x, out, batch: batch, channels: channels, plane: plane)
  }

  /// ``sum(_:_:batch:channels:plane:)`` of `g` and ``dot(_:_:_:batch:channels:plane:)`` of `g`
  /// and `x` in one pass over `g`, with the bits of the two calls (the same lanes, the same
  /// order): batch norm's backward pass needs both, and reading `g` once saves one of its five
  /// passes over the activation.
  static func sumAndDot(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, sums: UnsafeMutablePointer<Float>,
                        dots: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int) {
    let pg = UnsafeSharedConst(g), px = UnsafeSharedConst(x)
    let partials = planePartials(2, batch: batch, channels: channels, plane: plane) { p, out in
      let offset = p * plane
      let gr = UnsafeRawPointer(pg.pointer + offset), xr = UnsafeRawPointer(px.pointer + offset)
      var accS = SIMD8<Float>(repeating: 0), accD = SIMD8<Float>(repeating: 0)
      var i = 0
      while i &+ 8 <= plane {
        let v = gr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
        accS += v
        accD += v * xr.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
        i &+= 8
      }
      var partialS = Double(accS.sum()), partialD = Double(accD.sum())
      while i < plane {
        let v = pg.pointer[offset + i]
        partialS += Double(v)
        partialD += Double(v) * Double(px.pointer[offset + i])
        i &+= 1
      }
      out[0] = partialS
      out[1] = partialD
    }
    addPlanePartials(partials, 2, batch: batch, channels: channels, into: [sums, dots])
  }

  /// `out[c] = Σ_{n, i} (x[n, c, i] − mean[c])²`: the bits of `dot(d, d)` on the centred values
  /// `d = x − mean` (the two-pass variance), without writing `d`.
  static func centeredSquares(_ x: UnsafePointer<Float>, mean: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                              batch: Int, channels: Int, plane: Int) {
    reduce(CenteredSquare(mean: UnsafeSharedConst(mean)), x, out, batch: batch, channels: channels, plane: plane)
  }

  /// What a per-channel reduction adds up for each loaded element. A generic parameter rather
  /// than a closure so that each reduction is specialised with its term inlined (closures were
  /// called per vector: the reductions took 13% of a ResNet training step instead of 8%).
  private protocol Term: Sendable {
    /// The term of eight elements at `offset + i` (`offset` starts a plane of channel `c`).
    func lanes(_ v: SIMD8<Float>, channel c: Int, offset: Int, index i: Int) -> SIMD8<Float>
    /// The term of one tail element, in `Double`.
    func scalar(_ v: Float, channel c: Int, offset: Int, index i: Int) -> Double
  }

  private struct Identity: Term {
    func lanes(_ v: SIMD8<Float>, channel c: Int, offset: Int, index i: Int) -> SIMD8<Float> { v }
    func scalar(_ v: Float, channel c: Int, offset: Int, index i: Int) -> Double { Double(v) }
  }

  private struct Product: Term {
    let other: UnsafeSharedConst<Float>
    func lanes(_ v: SIMD8<Float>, channel c: Int, offset: Int, index i: Int) -> SIMD8<Float> {
      v * UnsafeRawPointer(other.pointer + offset).loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
    }
    func scalar(_ v: Float, channel c: Int, offset: Int, index i: Int) -> Double {
      Double(v) * Double(other.pointer[offset + i])
    }
  }

  private struct CenteredSquare: Term {
    let mean: UnsafeSharedConst<Float>
    func lanes(_ v: SIMD8<Float>, channel c: Int, offset: Int, index i: Int) -> SIMD8<Float> {
      let d = v - SIMD8<Float>(repeating: mean.pointer[c])
      return d * d
    }
    func scalar(_ v: Float, channel c: Int, offset: Int, index i: Int) -> Double {
      let d = Double(v - mean.pointer[c])
      return d * d
    }
  }

  /// `out[c] = Σ_{n, i} term(x[n, c, i])`: each plane's terms summed in eight `Float` lanes (its
  /// tail in `Double`), the planes of a channel added in `Double` in sample order.
  private static func reduce<T: Term>(_ term: T, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                      batch: Int, channels: Int, plane: Int) {
    let px = UnsafeSharedConst(x)
    let partials = planePartials(1, batch: batch, channels: channels, plane: plane) { p, out in
      let offset = p * plane, c = p % channels
      let row = UnsafeRawPointer(px.pointer + offset)
      var acc = SIMD8<Float>(repeating: 0)
      var i = 0
      while i &+ 8 <= plane {
        acc += term.lanes(row.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self), channel: c, offset: offset, index: i)
        i &+= 8
      }
      var partial = Double(acc.sum())
      while i < plane { partial += term.scalar(px.pointer[offset + i], channel: c, offset: offset, index: i); i &+= 1 }
      out[0] = partial
    }
    addPlanePartials(partials, 1, batch: batch, channels: channels, into: [out])
  }

  /// Runs `body(p, out)` for every plane `p = n·C + c`, each writing its `k` sums to `out`; planes
  /// in memory order, split into contiguous runs over the cores. Walking channel by channel
  /// instead read `N` runs of one plane each, far apart (256 bytes at 8×8), and took twice as long
  /// as an affine pass over the same memory.
  private static func planePartials(_ k: Int, batch: Int, channels: Int, plane: Int,
                                    _ body: @Sendable (Int, UnsafeMutablePointer<Double>) -> Void) -> [Double] {
    let planes = batch * channels
    var partials = [Double](repeating: 0, count: planes * k)
    partials.withUnsafeMutableBufferPointer { buffer in
      let out = UnsafeShared(buffer.baseAddress!)
      parallelRanges(planes, grain: Swift.max(1, KernelConfig.memoryBoundGrain / Swift.max(plane, 1))) { range in
        for p in range { body(p, out.pointer + p * k) }
      }
    }
    return partials
  }

  /// `out[j][c] = Σ_n partials[(n·C + c)·k + j]`, added in `Double` in sample order and rounded
  /// once: the per-channel totals of ``planePartials(_:batch:channels:plane:_:)``.
  private static func addPlanePartials(_ partials: [Double], _ k: Int, batch: Int, channels: Int,
                                       into out: [UnsafeMutablePointer<Float>]) {
    for c in 0..<channels {
      for j in 0..<k {
        var total = 0.0
        for n in 0..<batch { total += partials[(n * channels + c) * k + j] }
        out[j][c] = Float(total)
      }
    }
  }
}
