import PixelTensor

/// Max pooling over square windows (PyTorch's `nn.MaxPool2d`, floor mode).
public final class MaxPool2D: Layer {
  public var mode: Mode = .training
  public let kernelSize: Int, stride: Int, padding: Int

  /// - Parameter stride: defaults to the kernel size.
  public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
    self.padding = padding
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    maxPool2D(x, kernel: kernelSize, stride: stride, padding: padding)
  }
}
