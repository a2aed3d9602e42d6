/// Batch normalization with given statistics:
/// `y = (x − mean) / √(variance + ε) · weight + bias`, per channel (axis 1).
///
/// `x` is `[N, C]` or `[N, C, H, W]`; the statistics and affine parameters are `[C]`. The
/// statistics may be differentiable (training) or constants (inference).
public func batchNorm(_ x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?,
                      epsilon: Float = 1e-5) -> Tensor {
  precondition(x.rank >= 2, "batchNorm needs [N, C, …], got \(x.shape)")
  let c = x.shape[1]
  let view = Shape([1, c] + [Int](repeating: 1, count: x.rank - 2))
  var y = (x - mean.reshaped(to: view)) / (variance + epsilon).squareRoot().reshaped(to: view)
  if let weight { y = y * weight.reshaped(to: view) }
  if let bias { y = y + bias.reshaped(to: view) }
  return y
}

/// Per-channel batch mean and biased variance over every axis but 1.
public func batchStatistics(_ x: Tensor) -> (mean: Tensor, variance: Tensor) {
  let axes = [0] + Array(2..<x.rank)
  let mean = x.mean(alongAxes: axes, keepingShape: true)
  let centered = x - mean
  let variance = centered.squared().mean(alongAxes: axes)
  return (mean.reshaped(to: [x.shape[1]]), variance)
}

/// Batch normalization in training mode: normalizes with the batch statistics and returns
/// the updated running statistics (PyTorch's rule, unbiased variance):
/// `running ← (1 − momentum)·running + momentum·batch`.
public func batchNormTraining(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor,
                              runningVariance: Tensor, momentum: Float = 0.1,
                              epsilon: Float = 1e-5)
  -> (output: Tensor, runningMean: Tensor, runningVariance: Tensor) {
  let (mean, variance) = batchStatistics(x)
  let y = batchNorm(x, mean: mean, variance: variance, weight: weight, bias: bias, epsilon: epsilon)
  let count = Float(x.elementCount / x.shape[1])
  let (newMean, newVariance) = withoutGradients {
    let unbiased = variance.detached() * (count / Swift.max(count - 1, 1))
    return (runningMean * (1 - momentum) + mean.detached() * momentum,
            runningVariance * (1 - momentum) + unbiased * momentum)
  }
  return (y, newMean.detached(), newVariance.detached())
}
