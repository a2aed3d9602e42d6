import PixelTensor

/// The stochastic PRM-switching defense (Hwang et al., 2019): several PRM-defended models, of
/// which each forward pass draws one at random (with `chain > 1`, the PRMs of `chain` random
/// branches are applied in sequence before the last drawn branch's classifier).
///
/// This is a *randomized* model in inference mode too: attack it with EOT and classify each
/// adversarial example several times (DESIGN §0.4). Draws come from a seeded generator owned by
/// the layer; ``reseed(_:)`` restarts the sequence.
public final class SwitchingLayer: Layer {
  public var mode: Mode = .training
  /// Each branch: a PRM layer followed by its classifier's layers.
  public let branches: [Sequential]
  public let chain: Int
  private var generator: SeededGenerator

  public init(branches: [Sequential], chain: Int = 1, seed: UInt64 = 0) {
    precondition(!branches.isEmpty && chain >= 1, "switching needs branches and chain ≥ 1")
    precondition(chain == 1 || branches.allSatisfy { $0.layers.first?.layer is PRMLayer },
                 "chaining needs every branch to start with a PRM layer")
    self.branches = branches
    self.chain = chain
    generator = SeededGenerator(seed: seed)
  }

  public var members: [ModuleMember] { branches.enumerated().map { .module("\($0.offset)", $0.element) } }

  /// Restarts the sequence of random draws.
  public func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    var h = x
    var last = 0
    for step in 0..<chain {
      last = Int.random(in: 0..<branches.count, using: &generator)
      if step < chain - 1 { h = branches[last].layers[0].layer(h) }
    }
    return branches[last](h)
  }
}

/// Random resizing and padding (Xie et al., 2018, https://arxiv.org/abs/1711.01991): each
/// forward pass shrinks the image to a random size in `minimumSize…H` (nearest neighbour, a
/// differentiable gather) and zero-pads it back to `H × W` at a random offset. A baseline
/// randomized defense to compare the PRM switch with.
public final class RandomResizePad: Layer {
  public var mode: Mode = .training
  public let minimumSize: Int
  private var generator: SeededGenerator

  public init(minimumSize: Int, seed: UInt64 = 0) {
    precondition(minimumSize >= 1, "minimum size must be positive")
    self.minimumSize = minimumSize
    generator = SeededGenerator(seed: seed)
  }

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
