import Testing
import PixelTensor
@testable import PixelAnalysis

@Suite("Exact sums: any grouping of the same numbers gives the same pair")
struct ExactSumTests {
  @Test("sequential, split-and-merged and reversed sums of widely spread Floats agree bit for bit", arguments: [1, 2, 3, 7])
  func groupingDoesNotMatter(_ parts: Int) {
    var g = SeededGenerator(seed: 11)
    // Magnitudes from 2^-40 to 2^20: a plain Double sum of these depends on the order.
    let values = (0..<5000).map { _ in Double(Float(g.nextUnitFloat() - 0.5) * Float.pow2(Int(g.next() % 61) - 40)) }
    func sum(_ xs: ArraySlice<Double>) -> (Double, Double) {
      var hi = 0.0, lo = 0.0
      for x in xs { ExactSum.add(x, hi: &hi, lo: &lo) }
      return (hi, lo)
    }
    let whole = sum(values[...])
    var hi = 0.0, lo = 0.0
    let cut = (0...parts).map { values.count * $0 / parts }
    for k in (0..<parts).reversed() {
      let (h, l) = sum(values[cut[k]..<cut[k + 1]])
      ExactSum.add(pair: h, l, hi: &hi, lo: &lo)
    }
    #expect(hi.bitPattern == whole.0.bitPattern && lo.bitPattern == whole.1.bitPattern)
    let reversed = sum(values.reversed()[...])
    #expect(reversed.0.bitPattern == whole.0.bitPattern && reversed.1.bitPattern == whole.1.bitPattern)
  }
}

extension Float {
  static func pow2(_ e: Int) -> Float { Float(sign: .plus, exponent: e, significand: 1) }
}
