import PixelTensor

/// Per-channel standardisation `(x − mean) / std` inside the model, so that data and every ε
/// stay in `[0, 1]` pixel units (Foolbox's `bounds` lesson).
public final class Normalize: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  public let mean: [Float], standardDeviation: [Float]
  private let shift: Tensor, scale: Tensor

  /// Standardisation with one `mean` and `standardDeviation` per channel.
  public init(mean: [Float], standardDeviation: [Float]) {
    precondition(mean.count == standardDeviation.count && !mean.isEmpty, "normalize needs one mean and std per channel")
    precondition(standardDeviation.allSatisfy { $0 > 0 }, "normalize standard deviations must be positive")
    self.mean = mean
    self.standardDeviation = standardDeviation
    shift = Tensor(mean, shape: [1, mean.count, 1, 1])
    scale = Tensor(standardDeviation.map { 1 / $0 }, shape: [1, mean.count, 1, 1])
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { (x - shift) * scale }
}
