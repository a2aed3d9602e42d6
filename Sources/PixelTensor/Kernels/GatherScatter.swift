/// Flat gather and scatter-add, an adjoint pair: `⟨gather(x), y⟩ = ⟨x, scatterAdd(y)⟩`.
enum GatherScatter {
  /// `out[i] = x[idx[i]]`.
  static func gather(_ x: UnsafePointer<Float>, count: Int, indices: IndexStorage,
                     out: UnsafeMutablePointer<Float>) {
    let idx = indices.base
    for i in 0..<indices.count {
      let j = Int(idx[i])
      precondition(j >= 0 && j < count, "gather index \(j) outside 0..<\(count)")
      out[i] = x[j]
    }
  }

  /// `out = 0; out[idx[i]] += x[i]` in index order (reproducible sums).
  static func scatterAdd(_ x: UnsafePointer<Float>, indices: IndexStorage,
                         out: UnsafeMutablePointer<Float>, count: Int) {
    out.initialize(repeating: 0, count: count)
    let idx = indices.base
    for i in 0..<indices.count {
      let j = Int(idx[i])
      precondition(j >= 0 && j < count, "scatter index \(j) outside 0..<\(count)")
      out[j] += x[i]
    }
  }
}
