/// Mean and sample standard deviation. Equal values (a deterministic measurement repeated)
/// give that value and a spread of exactly 0, not the rounding residue of summing and dividing.
public func meanAndStandardDeviation(_ values: [Double]) -> (mean: Double, std: Double) {
  guard let first = values.first else { return (0, 0) }
  if values.allSatisfy({ $0 == first }) { return (first, 0) }
  let mean = values.reduce(0, +) / Double(values.count)
  guard values.count > 1 else { return (mean, 0) }
  let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
  return (mean, variance.squareRoot())
}
