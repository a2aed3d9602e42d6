import PixelTensor

/// Max pooling over square windows (PyTorch's `nn.MaxPool2d`, floor mode).
public final class MaxPool2D: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  public let kernelSize: Int, stride: Int, padding: Int
  /// The relative tolerance under which window values count as tied (``MaxPoolTies``).
  public let tieTolerance: Float

  /// - Parameters:
  ///   - stride: defaults to the kernel size.
  ///   - tieTolerance: ``MaxPoolTies/exact`` (PyTorch's first maximum) by default; ``MaxPoolTies/stable`` counts near-ties as ties.
  public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, tieTolerance: Float = MaxPoolTies.exact) {
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
    self.padding = padding
    self.tieTolerance = tieTolerance
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    maxPool2D(x, kernel: kernelSize, stride: stride, padding: padding, tieTolerance: tieTolerance)
  }
}
