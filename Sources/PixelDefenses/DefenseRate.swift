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

/// Whether accuracy `a` (sample std `sa`) is clearly above `b` (std `sb`) on `examples`
/// examples: by more than twice the summed spreads and by at least one example. An adaptive
/// attack that leaves a defense clearly more accurate than a weaker, non-adaptive one is too weak
/// or blocked by masked gradients.
func clearlyAbove(_ a: Double, std sa: Double, _ b: Double, std sb: Double, examples: Int) -> Bool {
  a > b + Swift.max(2 * (sa + sb), 1 / Double(Swift.max(examples, 1)))
}
