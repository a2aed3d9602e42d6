import Foundation
import PixelData
import PixelTensor

/// Small synthetic data sets that tiny models learn in a fraction of a second.
public enum SyntheticData {
  /// Two classes of `size × size` gray images: class 0 has a bright left half, class 1 a bright
  /// right half (0.65 against 0.35, plus uniform noise of ±0.1). Labels alternate 0, 1, 0, …
  public static func halves(_ n: Int, seed: UInt64, size: Int = 8) -> Dataset {
    var rng = SeededGenerator(seed: seed)
    var values: [Float] = []
    values.reserveCapacity(n * size * size)
    for i in 0..<n {
      for _ in 0..<size {
        for c in 0..<size {
          let bright = (c < size / 2) == (i % 2 == 0)
          values.append((bright ? 0.65 : 0.35) + 0.2 * (rng.nextUnitFloat() - 0.5))
        }
      }
    }
    return Dataset(name: "halves", images: Tensor(values, shape: [n, 1, size, size]), labels: (0..<n).map { $0 % 2 },
                   classNames: ["left", "right"])
  }
}
