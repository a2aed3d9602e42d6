import PixelNN
import PixelTensor

/// Random resizing and padding (Xie et al., 2018, https://arxiv.org/abs/1711.01991): each
/// forward pass shrinks the image to a random size in `minimumSize…H` (nearest neighbour, a
/// differentiable gather) and zero-pads it back to `H × W` at a random offset. A baseline
/// randomized defense to compare the PRM switch with.
public final class RandomResizePad: RandomizedLayer {
  public var mode: Mode = .training
  /// The smallest side drawn, in pixels.
  public let minimumSize: Int
  private var generator: SeededGenerator

  /// The default smallest side for `height × width` images: 7/8 of the shorter side (at least 1).
  public static func defaultMinimumSize(height: Int, width: Int) -> Int { Swift.max(1, Swift.min(height, width) * 7 / 8) }

  /// Resizing to sides drawn from `minimumSize…H`, drawing from `seed`.
  /// - Precondition: `minimumSize ≥ 1`.
  public init(minimumSize: Int, seed: UInt64 = 0) {
    precondition(minimumSize >= 1, "minimum size must be positive")
    self.minimumSize = minimumSize
    generator = SeededGenerator(seed: seed)
  }

  /// `true`: every forward pass draws a size and an offset.
  public var drawsInInference: Bool { true }

  /// Restarts the sequence of random draws.
  public func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let size = Int.random(in: Swift.min(minimumSize, Swift.min(h, w))...Swift.min(h, w), using: &generator)
    let top = Int.random(in: 0...(h - size), using: &generator), left = Int.random(in: 0...(w - size), using: &generator)
    var indices: [Int] = []
    indices.reserveCapacity(n * c * size * size)
    for plane in 0..<(n * c) {
      for i in 0..<size {
        let sy = i * h / size
        for j in 0..<size { indices.append(plane * h * w + sy * w + j * w / size) }
      }
    }
    let resized = x.gathering(IndexBuffer(indices), shape: [n, c, size, size])
    return resized.padded([Padding(0, 0), Padding(0, 0), Padding(top, h - size - top), Padding(left, w - size - left)])
  }
}

extension RandomResizePad {
  /// The spec kind `random_resize_pad`: fields `min_size` (default ``defaultMinimumSize(height:width:)``)
  /// or `min_scale` (the smallest side as a fraction of the shorter one, e.g. 0.9 for the PRM
  /// code's shrink by a factor in [0.9, 1]), and `seed` (the model's).
  public static let specBuilder = LayerBuilder(type: "random_resize_pad", options: ["min_size", "min_scale"]) { s, input, context in
    let (_, h, w) = try context.image(input, for: s.type)
    let size = try context.option(s, "min_size", as: Int.self), scale = try context.option(s, "min_scale", as: Double.self)
    guard size == nil || scale == nil else { throw context.invalid("random_resize_pad takes min_size or min_scale, not both") }
    if let scale, !(scale > 0 && scale <= 1) { throw context.invalid("random_resize_pad min_scale must lie in (0, 1], got \(scale)") }
    let fromScale = scale.map { Swift.max(1, Int((Double(Swift.min(h, w)) * $0).rounded(.up))) }
    let m = try context.positive(size ?? fromScale ?? defaultMinimumSize(height: h, width: w), "min_size")
    return (RandomResizePad(minimumSize: m, seed: s.seed ?? context.seed), input)
  }
}
