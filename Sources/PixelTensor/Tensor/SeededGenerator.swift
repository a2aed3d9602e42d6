import Foundation

/// A small, fast, seedable random number generator (xoshiro256**, Blackman & Vigna 2018).
///
/// Every random choice in PixelRobustness takes a generator explicitly; with the same seed
/// the same sequence of calls gives the same bytes on every machine.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

  /// Creates a generator whose state is expanded from `seed` with SplitMix64.
  public init(seed: UInt64) {
    var x = seed
    func splitMix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = splitMix(); s1 = splitMix(); s2 = splitMix(); s3 = splitMix()
  }

  /// The generator of stream `index` of run `seed`: what draws for example `index` of a data set
  /// come from, so that they depend only on the run's seed and the example's global index (not
  /// on how the data set was split into shards or batches).
  ///
  /// The index goes through a SplitMix64 finaliser before it meets the seed, so neighbouring
  /// streams start far apart and stream `i` of seed `s` is not stream `i + 1` of seed `s − 1`.
  public init(seed: UInt64, stream index: Int) {
    var z = UInt64(bitPattern: Int64(index)) &+ 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    self.init(seed: seed ^ (z ^ (z >> 31)))
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
    let t = s1 << 17
    s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
    s2 ^= t
    s3 = (s3 << 45) | (s3 >> 19)
    return result
  }
}

extension RandomNumberGenerator {
  /// A uniform `Float` in `[0, 1)` with 24 random bits.
  @inlinable
  public mutating func nextUnitFloat() -> Float {
    Float(next() >> 40) * 0x1p-24
  }

  /// Two independent standard normal samples (Box–Muller transform).
  @inlinable
  public mutating func nextStandardNormalPair() -> (Float, Float) {
    // u1 in (0, 1] so that log(u1) is finite.
    let u1 = (Double(next() >> 11) + 1) * 0x1p-53
    let u2 = Double(next() >> 11) * 0x1p-53
    let r = (-2 * log(u1)).squareRoot()
    return (Float(r * cos(2 * Double.pi * u2)), Float(r * sin(2 * Double.pi * u2)))
  }
}
