import PixelTensor

/// Batch normalisation over axis 1 of `[N, C]` (1-D) or `[N, C, H, W]` (2-D) inputs, as
/// PyTorch's `nn.BatchNorm1d/2d`: batch statistics and a running-statistics update in
/// training (`running ← (1 − momentum)·running + momentum·batch`, unbiased variance), the
/// running statistics in inference.
public final class BatchNorm: Layer {
  public var mode: Mode = .training
  /// In inference mode only: training mode normalizes with the batch's statistics.
  public var isSamplewise: Bool { mode == .inference }
  public let weight: Parameter
  public let bias: Parameter
  public let runningMean: Buffer
  public let runningVar: Buffer
  public let momentum: Float, epsilon: Float

  /// Batch norm over `features` channels with PyTorch's running-statistics `momentum` and `epsilon`.
  public init(features: Int, momentum: Float = 0.1, epsilon: Float = 1e-5) {
    weight = Parameter(.ones([features]))
    bias = Parameter(.zeros([features]))
    runningMean = Buffer(.zeros([features]))
    runningVar = Buffer(.ones([features]))
    self.momentum = momentum
    self.epsilon = epsilon
  }

  /// PyTorch's state-dict names: `weight`, `bias`, `running_mean`, `running_var`.
  public var members: [ModuleMember] {
    [.parameter("weight", weight), .parameter("bias", bias), .buffer("running_mean", runningMean),
     .buffer("running_var", runningVar)]
  }

  public func callAsFunction(_ x: Tensor) -> Tensor { self(x, relu: false) }

  /// With `relu`, `relu(self(x))`; in training mode in one pass (``batchNormTraining(_:weight:bias:runningMean:runningVariance:momentum:epsilon:relu:adding:)``).
  public func callAsFunction(_ x: Tensor, relu: Bool) -> Tensor {
    switch mode {
    case .inference:
      let y = batchNorm(x, mean: runningMean.value, variance: runningVar.value, weight: weight.value,
                        bias: bias.value, epsilon: epsilon)
      return relu ? y.relu() : y
    case .training:
      let r = batchNormTraining(x, weight: weight.value, bias: bias.value, runningMean: runningMean.value,
                                runningVariance: runningVar.value, momentum: momentum, epsilon: epsilon, relu: relu)
      runningMean.value = r.runningMean
      runningVar.value = r.runningVariance
      return r.output
    }
  }

  /// `relu(self(x) + skip)`, a residual block's end; in training mode in one pass
  /// (``batchNormTraining(_:weight:bias:runningMean:runningVariance:momentum:epsilon:relu:adding:)``).
  public func callAsFunction(_ x: Tensor, addingReLU skip: Tensor) -> Tensor {
    guard mode == .training, skip.shape == x.shape else { return self(x).addingReLU(skip) }
    let r = batchNormTraining(x, weight: weight.value, bias: bias.value, runningMean: runningMean.value,
                              runningVariance: runningVar.value, momentum: momentum, epsilon: epsilon, relu: true,
                              adding: skip)
    runningMean.value = r.runningMean
    runningVar.value = r.runningVariance
    return r.output
  }
}
