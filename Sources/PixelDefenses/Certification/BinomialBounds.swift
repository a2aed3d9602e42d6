import Foundation

/// The binomial statistics of randomized-smoothing certification (Cohen, Rosenfeld & Kolter,
/// 2019, https://arxiv.org/abs/1902.02918), from a regularised incomplete beta function of our own.
public enum BinomialBounds {
  /// The one-sided (1 − α) Clopper–Pearson lower confidence bound on a success probability after
  /// `successes` in `trials`: `Beta⁻¹(α; k, n − k + 1)`, 0 when `k = 0`. Cohen et al.'s CERTIFY
  /// certifies the top class when this exceeds ½.
  /// - Precondition: `0 ≤ successes ≤ trials`, `trials ≥ 1`, `0 < alpha < 1`.
  public static func clopperPearsonLower(successes k: Int, trials n: Int, alpha: Double) -> Double {
    precondition(n >= 1 && k >= 0 && k <= n && alpha > 0 && alpha < 1, "invalid binomial bound arguments")
    guard k > 0 else { return 0 }
    return betaQuantile(alpha, a: Double(k), b: Double(n - k + 1))
  }

  /// The two-sided binomial test's p-value for `successes` in `trials` at success probability ½
  /// (SciPy's `binomtest(k, n, 0.5)`): `min(1, 2·P(X ≤ min(k, n − k)))`. Cohen et al.'s PREDICT
  /// abstains when this exceeds α for the top two classes' counts.
  public static func twoSidedHalfTest(successes k: Int, trials n: Int) -> Double {
    precondition(n >= 1 && k >= 0 && k <= n, "invalid binomial test arguments")
    let low = Swift.min(k, n - k)
    if 2 * low == n { return 1 }
    // P(X ≤ m) = I_{1/2}(n − m, m + 1).
    return Swift.min(1, 2 * regularizedBeta(0.5, a: Double(n - low), b: Double(low + 1)))
  }

  /// The regularised incomplete beta function `I_x(a, b)`, by Lentz's continued fraction on the
  /// side where it converges (Numerical Recipes §6.4).
  public static func regularizedBeta(_ x: Double, a: Double, b: Double) -> Double {
    if x <= 0 { return 0 }
    if x >= 1 { return 1 }
    let logFront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * Foundation.log(x) + b * Foundation.log1p(-x)
    if x < (a + 1) / (a + b + 2) { return Foundation.exp(logFront) * continuedFraction(x, a: a, b: b) / a }
    return 1 - Foundation.exp(logFront) * continuedFraction(1 - x, a: b, b: a) / b
  }

  /// The `p`-quantile of Beta(a, b): bisection on `I_x(a, b) = p` in log space (the lower bounds
  /// of interest reach 10⁻⁹), 200 halvings.
  public static func betaQuantile(_ p: Double, a: Double, b: Double) -> Double {
    var lo = -745.0, hi = 0.0  // log x
    for _ in 0..<200 {
      let mid = (lo + hi) / 2
      if regularizedBeta(Foundation.exp(mid), a: a, b: b) < p { lo = mid } else { hi = mid }
    }
    return Foundation.exp((lo + hi) / 2)
  }

  static func continuedFraction(_ x: Double, a: Double, b: Double) -> Double {
    let tiny = 1e-300
    var c = 1.0, d = 1 - (a + b) * x / (a + 1)
    if Swift.abs(d) < tiny { d = tiny }
    d = 1 / d
    var h = d
    for m in 1...10_000 {
      let m = Double(m), m2 = 2 * m
      var aa = m * (b - m) * x / ((a - 1 + m2) * (a + m2))
      d = 1 + aa * d; if Swift.abs(d) < tiny { d = tiny }
      c = 1 + aa / c; if Swift.abs(c) < tiny { c = tiny }
      d = 1 / d; h *= d * c
      aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + 1 + m2))
      d = 1 + aa * d; if Swift.abs(d) < tiny { d = tiny }
      c = 1 + aa / c; if Swift.abs(c) < tiny { c = tiny }
      d = 1 / d
      let delta = d * c
      h *= delta
      if Swift.abs(delta - 1) < 1e-15 { break }
    }
    return h
  }
}
