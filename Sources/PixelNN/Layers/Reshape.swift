import PixelTensor

/// Gives every example the per-example `shape` (same elements, row-major order), as ONNX's
/// `Reshape` or `torch.reshape` with the batch axis kept.
public final class Reshape: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  /// The per-example shape (no batch axis).
  public let shape: [Int]
  /// Reshapes `[N, …]` to `[N] + shape`.
  public init(shape: [Int]) { self.shape = shape }
  public func callAsFunction(_ x: Tensor) -> Tensor { x.reshaped(to: Shape([x.shape[0]] + shape)) }
}
