import Testing
import PixelTensor
@testable import PixelMasks

@Suite("Pixel masks")
struct PixelMaskTests {
  @Test("PRM patterns have their fractions and honour shifts", arguments: PixelPattern.allCases)
  func patterns(_ p: PixelPattern) {
    let m = PixelMask.pattern(p, height: 28, width: 28)
    #expect(Swift.abs(m.fraction - p.fraction) < 1e-9)
    #expect(m.values[0])
    let shifted = PixelMask.pattern(p, height: 28, width: 28, shift: (1, 1))
    #expect(!shifted.values[0] && shifted.values[29])
  }

  @Test("top and bottom break ties by pixel index; random is seeded")
  func ranking() {
    let map = Tensor([3, 1, 3, 2, 1, 5], shape: [2, 3])
    #expect(PixelMask.top(50, of: map).values == [true, false, true, false, false, true])
    #expect(PixelMask.bottom(34, of: map).values == [false, true, false, false, true, false])
    let r = PixelMask.random(25, height: 28, width: 28, seed: 4)
    #expect(r.count == 196 && r == PixelMask.random(25, height: 28, width: 28, seed: 4))
    #expect(r != PixelMask.random(25, height: 28, width: 28, seed: 5))
  }

  @Test("IoU, recall, precision and chance level")
  func comparisons() {
    let a = PixelMask(height: 1, width: 4, values: [true, true, false, false])
    let b = PixelMask(height: 1, width: 4, values: [false, true, true, false])
    #expect(a.intersectionOverUnion(b) == 1.0 / 3)
    #expect(a.recall(of: b) == 0.5 && a.precision(against: b) == 0.5)
    #expect(a.union(b).count == 3 && a.subtracting(b).count == 1 && a.complement.count == 2)
    #expect(Swift.abs(PixelMask.chanceIoU(0.25, 0.25) - 0.142857) < 1e-6)
  }
}
