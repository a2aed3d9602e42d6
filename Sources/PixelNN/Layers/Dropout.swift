import PixelTensor

/// Inverted dropout, active only in training mode.
///
/// The layer owns a seeded generator, so a model's dropout masks are reproducible; trainers
/// reseed it per epoch (``reseed(_:)``) so that a resumed run draws the same masks.
public final class Dropout: RandomizedLayer {
  public var mode: Mode = .training
  /// In inference mode only, where dropout is the identity.
  public var isSamplewise: Bool { mode == .inference }
  public let probability: Float
  var generator: SeededGenerator

  /// Dropout of `probability` in `[0, 1)`, drawing masks from `seed`.
  public init(probability: Float, seed: UInt64 = 0) {
    precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
    self.probability = probability
    generator = SeededGenerator(seed: seed)
  }

  /// `false`: dropout is the identity in inference mode.
  public var drawsInInference: Bool { false }

  /// Restarts the mask sequence from `seed`.
  public func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    mode == .training ? dropout(x, probability: probability, using: &generator) : x
  }
}
