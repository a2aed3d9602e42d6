import Foundation
import PixelTensor

/// A set of pixel positions `[H, W]`, broadcast over channels: the pixels an attack may change,
/// the designated pixels of a PRM, or the top-k% of a gradient map.
public struct PixelMask: Equatable, Sendable, CustomStringConvertible {
  public let height: Int
  public let width: Int
  /// Row-major membership, `height · width` entries.
  public var values: [Bool]

  public init(height: Int, width: Int, values: [Bool]) {
    precondition(values.count == height * width, "\(values.count) values for a \(height)×\(width) mask")
    self.height = height
    self.width = width
    self.values = values
  }

  /// Every pixel (`all: true`) or none.
  public init(height: Int, width: Int, all: Bool) {
    self.init(height: height, width: width, values: [Bool](repeating: all, count: height * width))
  }

  /// Pixels in the mask.
  public var count: Int { values.lazy.filter { $0 }.count }
  /// The fraction of pixels in the mask.
  public var fraction: Double { Double(count) / Double(Swift.max(values.count, 1)) }

  /// 1 on the mask, 0 elsewhere, shaped `[1, channels, H, W]` so it broadcasts over a batch.
  public func tensor(channels: Int) -> Tensor {
    var out = [Float](repeating: 0, count: channels * values.count)
    for c in 0..<channels { for (i, v) in values.enumerated() where v { out[c * values.count + i] = 1 } }
    return Tensor(out, shape: [1, channels, height, width])
  }

  public var description: String { "\(count)/\(values.count) pixels (\(String(format: "%.1f", fraction * 100))%)" }

  // MARK: Set operations

  private func combine(_ o: PixelMask, _ f: (Bool, Bool) -> Bool) -> PixelMask {
    precondition(height == o.height && width == o.width, "masks \(height)×\(width) and \(o.height)×\(o.width) differ in size")
    return PixelMask(height: height, width: width, values: zip(values, o.values).map(f))
  }

  /// Pixels in both masks.
  public func intersection(_ o: PixelMask) -> PixelMask { combine(o) { $0 && $1 } }
  /// Pixels in either mask.
  public func union(_ o: PixelMask) -> PixelMask { combine(o) { $0 || $1 } }
  /// Pixels in this mask but not in `o`.
  public func subtracting(_ o: PixelMask) -> PixelMask { combine(o) { $0 && !$1 } }
  /// Pixels not in this mask.
  public var complement: PixelMask { PixelMask(height: height, width: width, values: values.map { !$0 }) }

  // MARK: Comparisons

  /// Intersection over union `|A ∩ B| / |A ∪ B|` (1 for two empty masks).
  public func intersectionOverUnion(_ o: PixelMask) -> Double {
    let u = union(o).count
    return u == 0 ? 1 : Double(intersection(o).count) / Double(u)
  }

  /// `|A ∩ B| / |B|`: how much of `reference` this mask covers (the original PRM code's "overlap").
  public func recall(of reference: PixelMask) -> Double {
    Double(intersection(reference).count) / Double(Swift.max(reference.count, 1))
  }

  /// `|A ∩ B| / |A|`: how much of this mask lies in `reference`.
  public func precision(against reference: PixelMask) -> Double {
    Double(intersection(reference).count) / Double(Swift.max(count, 1))
  }

  /// The expected IoU of two independent random masks holding fractions `a` and `b` of `n`
  /// pixels: `ab / (a + b − ab)` (0.143 for 25 % and 25 %).
  public static func chanceIoU(_ a: Double, _ b: Double) -> Double {
    let inter = a * b
    return inter / Swift.max(a + b - inter, 1e-12)
  }
}
