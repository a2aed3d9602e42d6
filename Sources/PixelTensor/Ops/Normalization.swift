/// Batch normalization with given statistics:
/// `y = (x − mean) / √(variance + ε) · weight + bias`, per channel (axis 1), computed as one
/// per-channel affine map `y = x·s + t` with `s = weight / √(variance + ε)` and `t = bias − mean·s`
/// (PyTorch's CPU inference kernel folds it the same way).
///
/// `x` is `[N, C]` or `[N, C, H, W]`; the statistics and affine parameters are `[C]`. The
/// statistics may be differentiable (training: the gradient reaches `x` through them) or
/// constants (inference).
public func batchNorm(_ x: Tensor, mean: Tensor, variance: Tensor, weight: Tensor?, bias: Tensor?,
                      epsilon: Float = 1e-5) -> Tensor {
  precondition(x.rank >= 2, "batchNorm needs [N, C, …], got \(x.shape)")
  let inverse = (variance + epsilon).squareRoot().reciprocal()
  let scale = weight.map { inverse * $0 } ?? inverse
  let shift = (bias ?? .zeros([x.shape[1]])) - mean * scale
  return x.channelAffine(scale: scale, shift: shift)
}

/// Per-channel batch mean and biased variance over every axis but 1, the variance from the
/// centred values: `σ² = Σ(x − μ)²/n` after a pass for `μ` (the centred copy is written only
/// when the computation is recorded).
public func batchStatistics(_ x: Tensor) -> (mean: Tensor, variance: Tensor) {
  let c = x.shape[1]
  let count = Float(x.elementCount / Swift.max(c, 1))
  let mean = x.channelSums() * (1 / count)
  if !x.isRecording {
    // No graph to record: the same bits from one read-only pass, without writing the centred copy.
    let squares = TensorStorage(uninitializedCount: c)
    Channelwise.centeredSquares(x.storage.base, mean: mean.storage.base, squares.base, batch: x.shape[0], channels: c,
                                plane: x.elementCount / Swift.max(x.shape[0] * c, 1))
    return (mean, Tensor(shape: [c], storage: squares) * (1 / count))
  }
  let centered = x.channelAffine(scale: .ones([c]), shift: -mean)
  return (mean, centered.channelDot(centered) * (1 / count))
}

/// Batch normalization in training mode: normalizes with the batch statistics and returns
/// the updated running statistics (PyTorch's rule, unbiased variance):
/// `running ← (1 − momentum)·running + momentum·batch`.
///
/// One recorded node (``Primitive/batchNormTraining(_:)``) whose VJP is the closed form, in place
/// of the composition through ``batchStatistics(_:)`` and ``batchNorm(_:mean:variance:weight:bias:epsilon:)``:
/// the same forward bits, and a backward pass of five passes over the activation instead of
/// about fourteen. With `relu`, the output is `relu` of the normalized values, written in the same
/// pass (the graph and the values are those of `.relu()` after it); with `relu` and `skip` (of
/// `x`'s shape), `relu(normalized + skip)` in that pass, a residual block's end (the graph and
/// the values of `.addingReLU(skip)` after it).
public func batchNormTraining(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor,
                              runningVariance: Tensor, momentum: Float = 0.1,
                              epsilon: Float = 1e-5, relu: Bool = false, adding skip: Tensor? = nil)
  -> (output: Tensor, runningMean: Tensor, runningVariance: Tensor) {
  precondition(x.rank >= 2, "batchNorm needs [N, C, …], got \(x.shape)")
  precondition(skip == nil || (relu && skip!.shape == x.shape),
               "batchNormTraining adds a skip of \(x.shape) only before its ReLU, got \(skip?.shape ?? [])")
  let c = x.shape[1]
  let (y, mean, variance) = batchNormalized(x, weight: weight ?? .ones([c]), bias: bias ?? .zeros([c]), epsilon: epsilon,
                                            relu: relu, adding: skip)
  let count = Float(x.elementCount / c)
  let (newMean, newVariance) = withoutGradients {
    let unbiased = variance * (count / Swift.max(count - 1, 1))
    return (runningMean * (1 - momentum) + mean * momentum, runningVariance * (1 - momentum) + unbiased * momentum)
  }
  return (y, newMean.detached(), newVariance.detached())
}
