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

  /// `out[c] = Σ_{n, i} a[n, c, i]·b[n, c, i]`, each plane summed in eight `Float` lanes and the
  /// planes of a channel added in `Double` in sample order; channels in parallel, so the result
  /// does not depend on the core count.
  static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>,
                  batch: Int, channels: Int, plane: Int) {
    let pa = UnsafeSharedConst(a), pb = UnsafeSharedConst(b), po = UnsafeShared(out)
    parallelRanges(channels, grain: Swift.max(1, KernelConfig.memoryBoundGrain / Swift.max(batch * plane, 1))) { cs in
      for c in cs {
        var total = 0.0
        for n in 0..<batch {
          let offset = (n * channels + c) * plane
          let x = UnsafeRawPointer(pa.pointer + offset), y = UnsafeRawPointer(pb.pointer + offset)
          var acc = SIMD8<Float>(repeating: 0)
          var i = 0
          while i &+ 8 <= plane {
            acc += x.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self) * y.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<Float>.self)
            i &+= 8
          }
          var partial = Double(acc.sum())
          while i < plane { partial += Double(pa.pointer[offset + i]) * Double(pb.pointer[offset + i]); i &+= 1 }
          total += partial
        }
        po.pointer[c] = Float(total)
      }
    }
  }
}
