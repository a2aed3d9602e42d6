import Foundation
import Testing
@testable import PixelDefenses

/// SciPy 1.17's values (`smoothing_math.json`).
struct SmoothingMath: Decodable {
  struct Bound: Decodable {
    var nA: Int, n: Int, alpha: Double, p_lower: Double
    var radius_sigma_0_25: Double?
    enum CodingKeys: String, CodingKey { case nA, n, alpha, p_lower, radius_sigma_0_25 = "radius_sigma_0.25" }
  }
  struct Quantile: Decodable { var p: Double, ppf: Double }
  struct Test: Decodable { var nA: Int, n: Int, p_two_sided: Double }
  var clopper_pearson_lower_one_sided: [Bound]
  var normal_ppf: [Quantile]
  var binomial_test_half: [Test]

  static func load() throws -> SmoothingMath {
    let url = Bundle.module.url(forResource: "smoothing_math", withExtension: "json", subdirectory: "Fixtures")!
    return try JSONDecoder().decode(SmoothingMath.self, from: Data(contentsOf: url))
  }
}

func relativelyClose(_ a: Double, _ b: Double, _ tolerance: Double = 1e-6) -> Bool {
  a == b || Swift.abs(a - b) <= tolerance * Swift.max(Swift.abs(b), 1e-300)
}

@Suite("Certification statistics against SciPy (smoothing_math.json)")
struct CertificationStatisticsTests {
  @Test("Φ⁻¹ to 1e-6 relative, tails included")
  func normalQuantile() throws {
    for q in try SmoothingMath.load().normal_ppf {
      #expect(relativelyClose(StandardNormal.quantile(q.p), q.ppf), "Φ⁻¹(\(q.p)) = \(StandardNormal.quantile(q.p)), SciPy \(q.ppf)")
    }
    #expect(StandardNormal.quantile(0) == -.infinity && StandardNormal.quantile(1) == .infinity)
    #expect(StandardNormal.quantile(1.5).isNaN)
  }

  @Test("one-sided Clopper–Pearson lower bounds and radii σ·Φ⁻¹(p) to 1e-6 relative")
  func clopperPearson() throws {
    for b in try SmoothingMath.load().clopper_pearson_lower_one_sided {
      let p = BinomialBounds.clopperPearsonLower(successes: b.nA, trials: b.n, alpha: b.alpha)
      #expect(relativelyClose(p, b.p_lower), "k \(b.nA) n \(b.n) α \(b.alpha): \(p) vs \(b.p_lower)")
      let radius = p > 0.5 ? 0.25 * StandardNormal.quantile(p) : nil
      if let expected = b.radius_sigma_0_25 {
        #expect(radius.map { relativelyClose($0, expected, 1e-5) } == true, "radius \(String(describing: radius)) vs \(expected)")
      } else {
        #expect(radius == nil)
      }
    }
  }

  @Test("two-sided binomial test at ½ to 1e-6 relative")
  func binomialTest() throws {
    for t in try SmoothingMath.load().binomial_test_half {
      let p = BinomialBounds.twoSidedHalfTest(successes: t.nA, trials: t.n)
      #expect(relativelyClose(p, t.p_two_sided), "k \(t.nA) n \(t.n): \(p) vs \(t.p_two_sided)")
    }
  }
}
