/// Mean and sample standard deviation.
public func meanAndStandardDeviation(_ values: [Double]) -> (mean: Double, std: Double) {
  guard !values.isEmpty else { return (0, 0) }
  let mean = values.reduce(0, +) / Double(values.count)
  guard values.count > 1 else { return (mean, 0) }
  let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
  return (mean, variance.squareRoot())
}
