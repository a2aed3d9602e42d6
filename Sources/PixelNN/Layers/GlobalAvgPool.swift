import PixelTensor

/// The mean over each channel's plane: `[N, C, H, W] → [N, C]`.
public final class GlobalAvgPool: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  /// The mean over each channel's pixels, `[N, C, H, W] → [N, C]`.
  public init() {}
  public func callAsFunction(_ x: Tensor) -> Tensor { globalAvgPool2D(x) }
}
