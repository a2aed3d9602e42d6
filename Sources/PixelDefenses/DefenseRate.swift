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
