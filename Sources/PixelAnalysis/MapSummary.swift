import Foundation
import PixelTensor

/// The statistics `gradient-map` writes to `summary.json` (JSON keys are the property names).
public struct MapSummary: Codable, Sendable {
  /// JSON `model`, `data`: the checkpoint and the data set, as named on the command line.
  public var model: String
  public var data: String
  /// JSON `target`: `loss` (∂CE/∂x) or `logit` (∂ logit of the predicted class / ∂x).
  public var target: String
  /// JSON `images`: images in the map (those with finite gradients).
  public var images: Int
  /// JSON `imageShape`: `[C, H, W]`.
  public var imageShape: [Int]
  /// JSON `minimum`, `maximum`, `mean`: over the pixels of the channel-mean map Ḡ.
  public var minimum: Double
  public var maximum: Double
  public var mean: Double
  /// The share of the channel-mean map's total mass held by its top k% pixels, keyed by k.
  public var topMassShare: [String: Double]
  /// Pixels of the channel-mean map whose gradient is exactly zero.
  public var zeroPixels: Int
  /// JSON `zeroGradientImages`: images whose gradient is exactly zero everywhere.
  public var zeroGradientImages: Int
  /// JSON `nonFiniteGradientImages`: images whose gradient has NaN or ±∞ (left out of the map).
  public var nonFiniteGradientImages: Int
  /// JSON `shard`: `i/n` for one shard's map, absent for a whole data set.
  public var shard: String?
  /// JSON `meanGradientL2Norm`: `mean_n ‖∇ₓ CE_n‖₂`, the quantity input-gradient
  /// regularization shrinks (absent for maps merged from partials that did not keep it).
  public var meanGradientL2Norm: Double?

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
    meanGradientL2Norm = acc.gradientNormSum.map { $0 / Double(Swift.max(acc.count, 1)) }
  }
}
