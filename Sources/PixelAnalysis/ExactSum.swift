/// Sums kept as unevaluated pairs `hi + lo` (double-double) with `hi = fl(hi + lo)`, so that
/// adding the same numbers in any grouping gives the same pair: each step is exact (Knuth's
/// TwoSum) as long as the running sum spans fewer than ~105 bits above the smallest input's
/// last bit, which Float gradients and their norms never approach. Shards' partial maps then
/// merge into the single run's sums bit for bit, not merely to rounding.
enum ExactSum {
  /// Adds `x` into the pair `(hi, lo)` and renormalises it.
  @inline(__always)
  static func add(_ x: Double, hi: inout Double, lo: inout Double) {
    let s = hi + x
    let b = s - hi
    let e = (hi - (s - b)) + (x - b)
    let t = lo + e
    hi = s + t
    lo = t - (hi - s)
  }

  /// Adds the pair `(h, l)` into `(hi, lo)`.
  @inline(__always)
  static func add(pair h: Double, _ l: Double, hi: inout Double, lo: inout Double) {
    add(h, hi: &hi, lo: &lo)
    add(l, hi: &hi, lo: &lo)
  }
}
