import PixelTensor

/// A 2-D convolution layer with OIHW weights, as PyTorch's `nn.Conv2d`.
public final class Conv2D: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  public let weight: Parameter
  public let bias: Parameter?
  public let stride: (Int, Int), padding: Int, dilation: Int, groups: Int

  /// A layer initialised like PyTorch's (uniform in `±1/√(in/groups · k²)`).
  public convenience init(inputChannels: Int, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                          dilation: Int = 1, groups: Int = 1, bias: Bool = true, using rng: inout some RandomNumberGenerator) {
    self.init(inputChannels: inputChannels, outputChannels: outputChannels, kernelHeight: kernelSize, kernelWidth: kernelSize,
              strideY: stride, strideX: stride, padding: padding, dilation: dilation, groups: groups, bias: bias, using: &rng)
  }

  /// A layer with a rectangular kernel and stride (e.g. a 1×2 kernel at stride (2, 4), which reads a lattice of pixels).
  public init(inputChannels: Int, outputChannels: Int, kernelHeight: Int, kernelWidth: Int, strideY: Int, strideX: Int,
              padding: Int = 0, dilation: Int = 1, groups: Int = 1, bias: Bool = true,
              using rng: inout some RandomNumberGenerator) {
    precondition(inputChannels % groups == 0 && outputChannels % groups == 0, "channels must divide by groups")
    let fanIn = inputChannels / groups * kernelHeight * kernelWidth
    weight = Parameter(Initialization.uniformFanIn([outputChannels, inputChannels / groups, kernelHeight, kernelWidth],
                                                   fanIn: fanIn, using: &rng))
    self.bias = bias ? Parameter(Initialization.uniformFanIn([outputChannels], fanIn: fanIn, using: &rng)) : nil
    self.stride = (strideY, strideX)
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    conv2D(x, weight: weight.value, bias: bias?.value, stride: stride, padding: (padding, padding),
           dilation: (dilation, dilation), groups: groups)
  }

  /// `norm(self(x))` for a batch norm in inference mode, as one convolution with folded weights:
  /// `W′[o] = W[o]·s[o]` and `b′[o] = (b[o] − μ[o])·s[o] + β[o]`, where `s = γ / √(σ² + ε)` from
  /// the running statistics `μ`, `σ²`. The fold is built from differentiable ops, so gradients
  /// reach `W`, `b`, `γ` and `β` (to any order) as through the two layers; values differ from
  /// the unfolded pair by rounding only. Without `norm`, the convolution itself.
  ///
  /// With `relu`, the ReLU of that, applied in cache
  /// (``conv2DReLU(_:weight:bias:stride:padding:dilation:groups:)``).
  public func callAsFunction(_ x: Tensor, foldingInference norm: BatchNorm? = nil, relu: Bool = false) -> Tensor {
    var w = weight.value, b = bias?.value
    if let norm { (w, b) = folded(norm) }
    let op = relu ? conv2DReLU : conv2D
    return op(x, w, b, stride, (padding, padding), (dilation, dilation), groups)
  }

  /// `relu(self(x, foldingInference: norm) + skip)`, the sum and the ReLU applied in cache
  /// (``conv2DAddingReLU(_:weight:bias:adding:stride:padding:dilation:groups:)``).
  public func callAsFunction(_ x: Tensor, foldingInference norm: BatchNorm?, addingReLU skip: Tensor) -> Tensor {
    var w = weight.value, b = bias?.value
    if let norm { (w, b) = folded(norm) }
    return conv2DAddingReLU(x, weight: w, bias: b, adding: skip, stride: stride, padding: (padding, padding),
                            dilation: (dilation, dilation), groups: groups)
  }

  /// The weights and bias with an inference-mode batch norm folded in (see
  /// ``callAsFunction(_:foldingInference:relu:)``).
  private func folded(_ norm: BatchNorm) -> (Tensor, Tensor) {
    precondition(norm.mode == .inference, "only a batch norm in inference mode folds into a convolution")
    let w = weight.value, b = bias?.value
    let scale = (norm.runningVar.value + norm.epsilon).squareRoot().reciprocal() * norm.weight.value
    return (w * scale.reshaped(to: [w.shape[0], 1, 1, 1]),
            (b.map { $0 - norm.runningMean.value } ?? -norm.runningMean.value) * scale + norm.bias.value)
  }

  /// `pool(self(x))` with each chunk of samples pooled while its convolution output is in cache
  /// (``conv2DMaxPool(_:weight:bias:stride:padding:dilation:poolKernel:poolStride:poolPadding:tieTolerance:)``);
  /// `groups` must be 1.
  public func callAsFunction(_ x: Tensor, thenMaxPool pool: MaxPool2D) -> Tensor {
    precondition(groups == 1, "a fused convolution and pooling needs groups = 1")
    return conv2DMaxPool(x, weight: weight.value, bias: bias?.value, stride: stride, padding: (padding, padding),
                         dilation: (dilation, dilation), poolKernel: (pool.kernelSize, pool.kernelSize),
                         poolStride: (pool.stride, pool.stride), poolPadding: (pool.padding, pool.padding),
                         tieTolerance: pool.tieTolerance)
  }
}
