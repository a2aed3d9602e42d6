import PixelTensor

/// Average pooling over square windows; padded zeros count (PyTorch's default).
public final class AvgPool2D: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  public let kernelSize: Int, stride: Int, padding: Int

  /// - Parameter stride: defaults to the kernel size.
  public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
    self.padding = padding
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    avgPool2D(x, kernel: kernelSize, stride: stride, padding: padding)
  }
}
