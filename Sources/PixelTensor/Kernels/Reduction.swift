/// Reductions that are not differentiable by themselves: arg-extrema (whose gather *is*
/// differentiable) and whole-tensor statistics.
enum Reduction {
  /// For a tensor viewed as `[outer, axisLength, inner]`, the flat input index of the
  /// largest (or smallest) element along the middle axis; ties take the first index.
  /// NaN wins over every number so that it propagates like PyTorch's `max`.
  static func argExtremum(_ x: UnsafePointer<Float>, outer: Int, axisLength: Int, inner: Int,
                          largest: Bool) -> IndexStorage {
    let out = IndexStorage(count: outer * inner)
    for o in 0..<outer {
      for i in 0..<inner {
        let base = o * axisLength * inner + i
        var best = base
        var bestValue = x[base]
        if !bestValue.isNaN {
          for a in 1..<Swift.max(axisLength, 1) {
            let j = base + a * inner
            let v = x[j]
            if v.isNaN { best = j; break }
            if largest ? v > bestValue : v < bestValue { best = j; bestValue = v }
          }
        }
        out.base[o * inner + i] = Int32(best)
      }
    }
    return out
  }
}
