import PixelTensor

/// Max pooling over square windows (PyTorch's `nn.MaxPool2d`, floor mode).
public final class MaxPool2D: Layer {
  public var mode: Mode = .training
  public let kernelSize: Int, stride: Int, padding: Int
  /// The relative tolerance under which window values count as tied (``MaxPoolTies``).
  public let tieTolerance: Float

  /// - Parameters:
  ///   - stride: defaults to the kernel size.
  ///   - tieTolerance: ``MaxPoolTies/stable`` by default; ``MaxPoolTies/exact`` for PyTorch's exact first maximum.
  public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0, tieTolerance: Float = MaxPoolTies.stable) {
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
    self.padding = padding
    self.tieTolerance = tieTolerance
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    maxPool2D(x, kernel: kernelSize, stride: stride, padding: padding, tieTolerance: tieTolerance)
  }
}
