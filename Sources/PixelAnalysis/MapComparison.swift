import PixelMasks
import PixelTensor

/// Spearman's rank correlation between two maps of equal size (average ranks for ties).
public func spearmanCorrelation(_ a: Tensor, _ b: Tensor) -> Double {
  let x = PixelMask.pixelValues(a).values, y = PixelMask.pixelValues(b).values
  precondition(x.count == y.count, "maps of \(x.count) and \(y.count) pixels")
  func ranks(_ v: [Float]) -> [Double] {
    let order = v.indices.sorted { v[$0] < v[$1] }
    var r = [Double](repeating: 0, count: v.count)
    var i = 0
    while i < order.count {
      var j = i
      while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
      let average = Double(i + j) / 2 + 1
      for k in i...j { r[order[k]] = average }
      i = j + 1
    }
    return r
  }
  let rx = ranks(x), ry = ranks(y)
  let mx = rx.reduce(0, +) / Double(rx.count), my = ry.reduce(0, +) / Double(ry.count)
  var sxy = 0.0, sxx = 0.0, syy = 0.0
  for i in rx.indices {
    sxy += (rx[i] - mx) * (ry[i] - my); sxx += (rx[i] - mx) * (rx[i] - mx); syy += (ry[i] - my) * (ry[i] - my)
  }
  return sxx == 0 || syy == 0 ? 0 : sxy / (sxx * syy).squareRoot()
}
