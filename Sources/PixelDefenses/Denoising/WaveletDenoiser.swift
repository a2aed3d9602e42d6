import Foundation

/// Wavelet soft-threshold denoising with BayesShrink thresholds (Chang, Yu & Vetterli 2000), the
/// denoiser of pixel deflection (Prakash et al. 2018), which calls scikit-image's
/// `denoise_wavelet(image, sigma=σ, wavelet="db1", mode="soft", method="BayesShrink")`; this
/// follows that function:
///
/// 1. a 2-D Haar (Daubechies-1) transform over `L = max(⌊log₂ min(H, W)⌋ − 3, 1)` levels, odd
///    lengths extended symmetrically (PyWavelets' default mode);
/// 2. each detail subband `d` soft-thresholded at `t = σ² / √max(mean(d²) − σ², ε)` (the whole
///    subband vanishes where its energy does not exceed the noise's);
/// 3. the inverse transform, cropped to `H × W` and clipped to `[0, 1]`.
///
/// Arithmetic is in `Double`.
public struct WaveletDenoiser: Sendable, Equatable {
  /// The noise standard deviation σ assumed, in pixel units.
  public var sigma: Double
  /// Decomposition levels, or `nil` for scikit-image's default above.
  public var levels: Int?

  /// A denoiser for noise σ ≥ 0.
  public init(sigma: Double, levels: Int? = nil) {
    precondition(sigma >= 0 && sigma.isFinite, "σ must be finite and non-negative")
    precondition(levels.map { $0 >= 1 } ?? true, "at least one level")
    self.sigma = sigma
    self.levels = levels
  }

  /// scikit-image's default level count for an `h × w` image.
  public static func defaultLevels(height h: Int, width w: Int) -> Int {
    let shortest = Swift.max(1, Swift.min(h, w))
    return Swift.max(Int(Foundation.log2(Double(shortest)).rounded(.down)) - 3, 1)
  }

  /// The denoised `h × w` plane (row-major), clipped to `[0, 1]`.
  public func denoise(_ plane: [Double], height h: Int, width w: Int) -> [Double] {
    precondition(plane.count == h * w && h >= 1 && w >= 1, "the plane must hold h × w values")
    let depth = levels ?? Self.defaultLevels(height: h, width: w)
    var pyramid = HaarPyramid(plane, height: h, width: w, levels: depth)
    let variance = sigma * sigma
    for level in pyramid.details.indices {
      for band in pyramid.details[level].indices {
        let d = pyramid.details[level][band]
        let energy = d.reduce(0) { $0 + $1 * $1 } / Double(Swift.max(d.count, 1))
        let threshold = variance / Swift.max(energy - variance, Double.ulpOfOne).squareRoot()
        pyramid.details[level][band] = d.map { $0 > 0 ? Swift.max($0 - threshold, 0) : -Swift.max(-$0 - threshold, 0) }
      }
    }
    return pyramid.reconstruct().map { Swift.min(Swift.max($0, 0), 1) }
  }
}

/// A multi-level 2-D Haar decomposition: the coarsest approximation and, per level (finest
/// first), the three detail subbands (horizontal, vertical, diagonal), with the extents needed to
/// invert it exactly.
struct HaarPyramid {
  var approximation: [Double]
  /// `details[level] = [cH, cV, cD]`, each `rows[level] × columns[level]` of the level's output.
  var details: [[[Double]]] = []
  /// The input extents of each level (finest first).
  var shapes: [(height: Int, width: Int)] = []

  /// Decomposes `plane` (`h × w`, row-major) over `levels` levels.
  init(_ plane: [Double], height h: Int, width w: Int, levels: Int) {
    var current = plane, (ch, cw) = (h, w)
    for _ in 0..<levels {
      shapes.append((ch, cw))
      let (a, bands, nh, nw) = Self.analyze(current, height: ch, width: cw)
      details.append(bands)
      current = a
      (ch, cw) = (nh, nw)
    }
    approximation = current
  }

  /// One level: rows then columns split into low and high halves.
  static func analyze(_ x: [Double], height h: Int, width w: Int) -> ([Double], [[Double]], Int, Int) {
    let nw = (w + 1) / 2, nh = (h + 1) / 2
    // Along rows: low `l` and high `hi`, each h × nw.
    var low = [Double](repeating: 0, count: h * nw), high = low
    for r in 0..<h {
      for k in 0..<nw {
        let a = x[r * w + 2 * k], b = 2 * k + 1 < w ? x[r * w + 2 * k + 1] : a
        low[r * nw + k] = (a + b) * 0.5.squareRoot()
        high[r * nw + k] = (a - b) * 0.5.squareRoot()
      }
    }
    func columns(_ m: [Double]) -> ([Double], [Double]) {
      var lo = [Double](repeating: 0, count: nh * nw), hi = lo
      for k in 0..<nh {
        for c in 0..<nw {
          let a = m[2 * k * nw + c], b = 2 * k + 1 < h ? m[(2 * k + 1) * nw + c] : a
          lo[k * nw + c] = (a + b) * 0.5.squareRoot()
          hi[k * nw + c] = (a - b) * 0.5.squareRoot()
        }
      }
      return (lo, hi)
    }
    let (ll, lh) = columns(low), (hl, hh) = columns(high)
    return (ll, [lh, hl, hh], nh, nw)
  }

  /// The plane the pyramid describes (exact inverse of the decomposition up to rounding).
  func reconstruct() -> [Double] {
    var current = approximation
    for level in stride(from: shapes.count - 1, through: 0, by: -1) {
      let (h, w) = shapes[level]
      let nh = (h + 1) / 2, nw = (w + 1) / 2
      let bands = details[level]
      func columns(_ lo: [Double], _ hi: [Double]) -> [Double] {
        var m = [Double](repeating: 0, count: h * nw)
        for k in 0..<nh {
          for c in 0..<nw {
            let a = lo[k * nw + c], d = hi[k * nw + c]
            m[2 * k * nw + c] = (a + d) * 0.5.squareRoot()
            if 2 * k + 1 < h { m[(2 * k + 1) * nw + c] = (a - d) * 0.5.squareRoot() }
          }
        }
        return m
      }
      let low = columns(current, bands[0]), high = columns(bands[1], bands[2])
      var x = [Double](repeating: 0, count: h * w)
      for r in 0..<h {
        for k in 0..<nw {
          let a = low[r * nw + k], d = high[r * nw + k]
          x[r * w + 2 * k] = (a + d) * 0.5.squareRoot()
          if 2 * k + 1 < w { x[r * w + 2 * k + 1] = (a - d) * 0.5.squareRoot() }
        }
      }
      current = x
    }
    return current
  }
}
