import PixelTensor

/// A transposed 2-D convolution with `[in, out, kh, kw]` weights, as PyTorch's
/// `nn.ConvTranspose2d`.
public final class ConvTranspose2D: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  public let weight: Parameter
  public let bias: Parameter?
  public let stride: (Int, Int), padding: Int, outputPadding: Int

  /// A layer initialised like PyTorch's (its fan-in is `out · k²`, from the weight's dim 1).
  public convenience init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                          outputPadding: Int = 0, bias: Bool = true, using rng: inout some RandomNumberGenerator) {
    self.init(inputChannels: inputChannels, outputChannels: outputChannels, kernelHeight: kernelSize, kernelWidth: kernelSize,
              strideY: stride, strideX: stride, padding: padding, outputPadding: outputPadding, bias: bias, using: &rng)
  }

  /// A layer with a rectangular kernel and stride.
  public init(inputChannels: Int, outputChannels: Int, kernelHeight: Int, kernelWidth: Int, strideY: Int, strideX: Int,
              padding: Int = 0, outputPadding: Int = 0, bias: Bool = true, using rng: inout some RandomNumberGenerator) {
    let fanIn = outputChannels * kernelHeight * kernelWidth
    weight = Parameter(Initialization.uniformFanIn([inputChannels, outputChannels, kernelHeight, kernelWidth],
                                                   fanIn: fanIn, using: &rng))
    self.bias = bias ? Parameter(Initialization.uniformFanIn([outputChannels], fanIn: fanIn, using: &rng)) : nil
    self.stride = (strideY, strideX)
    self.padding = padding
    self.outputPadding = outputPadding
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    convTranspose2D(x, weight: weight.value, bias: bias?.value, stride: stride,
                    padding: (padding, padding), outputPadding: (outputPadding, outputPadding))
  }
}
