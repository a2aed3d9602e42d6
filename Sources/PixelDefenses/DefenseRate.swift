/// The defense rate of Hwang et al.: the share of the accuracy an attack removes that a defense
/// wins back, `1 − (acc_clean − acc_defended) / (acc_clean − acc_attacked)`, where `acc_clean`
/// and `acc_attacked` are the undefended model's accuracy without and with the attack and
/// `acc_defended` the defended model's accuracy under the attack. `nil` when the attack
/// removes nothing.
public func defenseRate(clean: Double, attacked: Double, defended: Double) -> Double? {
  let removed = clean - attacked
  guard removed > 1e-12 else { return nil }
  return 1 - (clean - defended) / removed
}

/// Mean and sample standard deviation.
public func meanAndStandardDeviation(_ values: [Double]) -> (mean: Double, std: Double) {
  guard !values.isEmpty else { return (0, 0) }
  let mean = values.reduce(0, +) / Double(values.count)
  guard values.count > 1 else { return (mean, 0) }
  let variance = values.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(values.count - 1)
  return (mean, variance.squareRoot())
}
