import PixelTensor

/// A fully connected layer `y = x·Wᵀ + b`, with `W` `[out, in]` as in PyTorch's `nn.Linear`.
public final class Linear: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  public let weight: Parameter
  public let bias: Parameter?

  /// A layer initialised like PyTorch's (uniform in `±1/√in`).
  public init(inputFeatures: Int, outputFeatures: Int, bias: Bool = true,
              using rng: inout some RandomNumberGenerator) {
    weight = Parameter(Initialization.uniformFanIn([outputFeatures, inputFeatures], fanIn: inputFeatures, using: &rng))
    self.bias = bias ? Parameter(Initialization.uniformFanIn([outputFeatures], fanIn: inputFeatures, using: &rng)) : nil
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    linear(x, weight: weight.value, bias: bias?.value)
  }
}
