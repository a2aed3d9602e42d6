import PixelTensor

/// `min(max(x, lower), upper)` elementwise: ReLU6 is `Clip(0, 6)` (ONNX `Clip`).
public final class Clip: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  public let range: ClosedRange<Float>
  /// Clamps to `range`; the gradient is 1 inside and 0 where clamped.
  public init(range: ClosedRange<Float>) { self.range = range }
  public func callAsFunction(_ x: Tensor) -> Tensor { x.clamped(to: range) }
}
