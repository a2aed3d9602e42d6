/// Per-channel kernels over `[N, C, …]` tensors viewed as `N·C` contiguous planes of `plane`
/// floats: batch normalisation's affine map and its reductions in one pass each, with no
/// broadcast copy of the `[C]` operands.
enum Channelwise {
  /// `y[n, c, i] = x[n, c, i]·scale[c] + shift[c]`; planes in parallel.
  static func affine(_ x: UnsafePointer<Float>, scale: UnsafePointer<Float>, shift: UnsafePointer<Float>,
                     _ y: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int) {
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
          d.storeBytes(of: v * va + vb, toByteOffset: i &* 4, as: SIMD8<Float>.self)
          i &+= 8
        }
        while i < plane { dst[i] = src[i] * a + b; i &+= 1 }
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
  /// planes of a channel added in `Double` in sample order; channels in parallel, so the result
  /// does not depend on the core count.
  static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                  batch: Int, channels: Int, plane: Int) {
    reduce(Product(other: UnsafeSharedConst(b)), a, out, batch: batch, channels: channels, plane: plane)
  }

  /// `out[c] = Σ_{n, i} x[n, c, i]`, summed as ``dot(_:_:_:batch:channels:plane:)`` sums (a
  /// channel's sum of gradients in batch norm, and bias gradients).
  static func sum(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, batch: Int, channels: Int, plane: Int) {
    reduce(Identity(), x, out, batch: batch, channels: channels, plane: plane)
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
  /// tail in `Double`), the planes of a channel added in `Double` in sample order; channels in
  /// parallel.
  private static func reduce<T: Term>(_ term: T, _ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                                      batch: Int, channels: Int, plane: Int) {
    let px = UnsafeSharedConst(x), po = UnsafeShared(out)
    parallelRanges(channels, grain: Swift.max(1, KernelConfig.memoryBoundGrain / Swift.max(batch * plane, 1))) { cs in
      for c in cs {
        var total = 0.0
        for n in 0..<batch {
          let offset = (n * channels + c) * plane
          let row = UnsafeRawPointer(px.pointer + offset)
          var acc = SIMD8<Float>(repeating: 0)
          var i = 0
          while i &+ 8 <= plane {
            acc += term.lanes(row.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self), channel: c, offset: offset, index: i)
            i &+= 8
          }
          var partial = Double(acc.sum())
          while i < plane { partial += term.scalar(px.pointer[offset + i], channel: c, offset: offset, index: i); i &+= 1 }
          total += partial
        }
        po.pointer[c] = Float(total)
      }
    }
  }
}
