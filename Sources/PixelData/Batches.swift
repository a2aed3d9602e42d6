import PixelTensor

/// Mini-batches of a data set in order, or shuffled with a seeded generator.
public struct MiniBatches: Sequence {
  public let dataset: Dataset
  public let batchSize: Int
  /// The visiting order of example indices.
  public let order: [Int]

  /// - Parameters:
  ///   - shuffleSeed: shuffles the order with `SeededGenerator(seed:)` when given.
  ///   - dropLast: drops a final partial batch.
  public init(_ dataset: Dataset, batchSize: Int, shuffleSeed: UInt64? = nil, dropLast: Bool = false) {
    precondition(batchSize > 0, "batch size must be positive")
    self.dataset = dataset
    self.batchSize = batchSize
    var order = Array(0..<dataset.count)
    if let shuffleSeed {
      var rng = SeededGenerator(seed: shuffleSeed)
      order.shuffle(using: &rng)
    }
    if dropLast { order = Array(order.prefix(order.count / batchSize * batchSize)) }
    self.order = order
  }

  /// The number of batches.
  public var count: Int { (order.count + batchSize - 1) / batchSize }

  public func makeIterator() -> AnyIterator<(images: Tensor, labels: [Int])> {
    var start = 0
    let shuffled = order != Array(0..<dataset.count)
    return AnyIterator {
      guard start < order.count else { return nil }
      let end = Swift.min(start + batchSize, order.count)
      defer { start = end }
      if !shuffled {
        return (dataset.images.rows(start..<end), Array(dataset.labels[start..<end]))
      }
      let idx = Array(order[start..<end])
      return (dataset.images.rows(at: idx), idx.map { dataset.labels[$0] })
    }
  }
}

/// Random crops with zero padding and horizontal flips for CIFAR-style training
/// (He et al., 2016: pad 4, crop 32, flip with probability ½).
public struct Augmentation: Sendable, Equatable {
  /// Zero padding on each side before a random crop back to the original size; 0 disables.
  public var cropPadding: Int
  /// Whether to flip each image left–right with probability ½.
  public var horizontalFlip: Bool

  /// Random crops after zero padding of `cropPadding` pixels, and horizontal flips.
  public init(cropPadding: Int = 0, horizontalFlip: Bool = false) {
    precondition(cropPadding >= 0, "crop padding must be non-negative")
    self.cropPadding = cropPadding
    self.horizontalFlip = horizontalFlip
  }

  /// `true` when the augmentation changes nothing.
  public var isIdentity: Bool { cropPadding == 0 && !horizontalFlip }

  /// A randomly cropped and flipped copy of `images` `[N, C, H, W]` (a constant).
  public func apply(_ images: Tensor, using rng: inout some RandomNumberGenerator) -> Tensor {
    if isIdentity { return images }
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    let p = cropPadding
    var out = [Float](repeating: 0, count: images.elementCount)
    images.withUnsafeBufferPointer { src in
      for i in 0..<n {
        let dy = p > 0 ? Int.random(in: -p...p, using: &rng) : 0
        let dx = p > 0 ? Int.random(in: -p...p, using: &rng) : 0
        let flip = horizontalFlip && Bool.random(using: &rng)
        for ch in 0..<c {
          let plane = (i * c + ch) * h * w
          for y in 0..<h {
            let sy = y + dy
            guard sy >= 0 && sy < h else { continue }
            for x in 0..<w {
              let sx = (flip ? w - 1 - x : x) + dx
              if sx >= 0 && sx < w { out[plane + y * w + x] = src[plane + sy * w + sx] }
            }
          }
        }
      }
    }
    return Tensor(out, shape: images.shape)
  }
}
