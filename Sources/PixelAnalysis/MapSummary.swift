import Foundation
import PixelTensor

/// The statistics `gradient-map` writes to `summary.json`.
public struct MapSummary: Codable, Sendable {
  public var model: String
  public var data: String
  public var target: String
  public var images: Int
  public var imageShape: [Int]
  public var minimum: Double
  public var maximum: Double
  public var mean: Double
  /// The share of the channel-mean map's total mass held by its top k% pixels, keyed by k.
  public var topMassShare: [String: Double]
  /// Pixels of the channel-mean map whose gradient is exactly zero.
  public var zeroPixels: Int
  public var zeroGradientImages: Int
  public var nonFiniteGradientImages: Int
  public var shard: String?

  /// Summarises an accumulator's channel-mean map.
  public init(_ acc: GradientMapAccumulator, model: String, data: String, target: GradientTarget, shard: String? = nil) {
    let values = acc.channelMean.scalars.map(Double.init)
    let total = values.reduce(0, +)
    let sorted = values.sorted(by: >)
    var shares: [String: Double] = [:]
    for k in [1, 5, 10, 25, 50] {
      let n = Swift.max(1, Int((Double(k) / 100 * Double(values.count)).rounded()))
      shares["\(k)"] = total > 0 ? sorted.prefix(n).reduce(0, +) / total : 0
    }
    self.model = model
    self.data = data
    self.target = target.rawValue
    images = acc.count
    imageShape = acc.imageShape
    minimum = values.min() ?? 0
    maximum = values.max() ?? 0
    mean = total / Double(Swift.max(values.count, 1))
    topMassShare = shares
    zeroPixels = values.filter { $0 == 0 }.count
    zeroGradientImages = acc.zeroGradientImages
    nonFiniteGradientImages = acc.nonFiniteGradientImages
    self.shard = shard
  }
}
