import PixelTensor

/// Collapses every axis after the batch axis, in CHW order (as PyTorch's `nn.Flatten`).
public final class Flatten: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  /// The flattening of each example to one axis.
  public init() {}
  public func callAsFunction(_ x: Tensor) -> Tensor { x.flattenedBatch() }
}
