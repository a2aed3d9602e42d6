import PixelTensor

/// A 2-D convolution layer with OIHW weights, as PyTorch's `nn.Conv2d`.
public final class Conv2D: Layer {
  public var mode: Mode = .training
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
  /// the unfolded pair by rounding only.
  ///
  /// With `relu`, `relu(norm(self(x)))` (see ``conv2DReLU(_:weight:bias:stride:padding:dilation:groups:)``).
  public func callAsFunction(_ x: Tensor, foldingInference norm: BatchNorm, relu: Bool = false) -> Tensor {
    precondition(norm.mode == .inference, "only a batch norm in inference mode folds into a convolution")
    let o = weight.value.shape[0]
    let scale = (norm.runningVar.value + norm.epsilon).squareRoot().reciprocal() * norm.weight.value
    let folded = weight.value * scale.reshaped(to: [o, 1, 1, 1])
    let centered = bias.map { $0.value - norm.runningMean.value } ?? -norm.runningMean.value
    let shift = centered * scale + norm.bias.value
    guard relu else {
      return conv2D(x, weight: folded, bias: shift, stride: stride, padding: (padding, padding),
                    dilation: (dilation, dilation), groups: groups)
    }
    return conv2DReLU(x, weight: folded, bias: shift, stride: stride, padding: (padding, padding),
                      dilation: (dilation, dilation), groups: groups)
  }

  /// `relu(self(x))`, clamped in cache when nothing is recorded
  /// (``conv2DReLU(_:weight:bias:stride:padding:dilation:groups:)``).
  public func callAsFunction(_ x: Tensor, thenReLU: Void) -> Tensor {
    conv2DReLU(x, weight: weight.value, bias: bias?.value, stride: stride, padding: (padding, padding),
               dilation: (dilation, dilation), groups: groups)
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
