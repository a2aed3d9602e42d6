extension Tensor {
  /// Rectified linear unit, `max(x, 0)`; the subgradient at 0 is 0.
  ///
  /// Recorded as `select(x > 0)`; the mask and the output come from one pass over `x`. When
  /// nothing is recorded (inference), no mask is written.
  public func relu() -> Tensor {
    guard isRecording else {
      let out = TensorStorage(uninitializedCount: elementCount)
      Elementwise.relu(storage.base, out.base, count: elementCount)
      return Tensor(shape: shape, storage: out)
    }
    let mask = ByteStorage(count: elementCount)
    let out = TensorStorage(uninitializedCount: elementCount)
    Elementwise.relu(storage.base, mask: mask.base, out.base, count: elementCount)
    return .recorded(.select(Mask(shape: shape, storage: mask)), [self], shape: shape, storage: out)
  }

  /// `relu(self + other)` for equal shapes (a residual block's output) in one pass instead of
  /// two. When recorded, the graph is exactly the two ops' (an add node, then a select node);
  /// the two nodes share the one buffer, which holds the ReLU's values — neither VJP reads its
  /// node's output, and the sum does not escape.
  public func addingReLU(_ other: Tensor) -> Tensor {
    guard shape == other.shape else { return (self + other).relu() }
    let out = TensorStorage(uninitializedCount: elementCount)
    guard isRecording || other.isRecording else {
      Elementwise.relu(storage.base, adding: other.storage.base, out.base, count: elementCount)
      return Tensor(shape: shape, storage: out)
    }
    let mask = ByteStorage(count: elementCount)
    Elementwise.relu(storage.base, adding: other.storage.base, mask: mask.base, out.base, count: elementCount)
    let sum = Tensor.recorded(.add, [self, other], shape: shape, storage: out)
    return .recorded(.select(Mask(shape: shape, storage: mask)), [sum], shape: shape, storage: out)
  }

  /// Whether an op on this tensor would be recorded for differentiation.
  var isRecording: Bool { node != nil && GradMode.isEnabled }

  /// Leaky ReLU: `x` for `x > 0`, `slope · x` otherwise.
  public func leakyReLU(slope: Float = 0.01) -> Tensor {
    // NOTE: a product with a constant factor tensor: one primitive, exact to every order.
    let factor = Tensor.select(self .> 0, .ones([]), Tensor(slope))
    return self * factor
  }

  /// Softplus `log(1 + eˣ)`, computed stably as `relu(x) + log1p(e^{−|x|})`.
  public func softplus() -> Tensor { relu() + (-abs()).exp().log1p() }

  /// Logistic sigmoid `1 / (1 + e^{−x})`, computed as `½·tanh(x/2) + ½`, which neither
  /// overflows nor produces NaN derivatives for large `|x|`.
  public func sigmoid() -> Tensor { affine(scale: 0.5, shift: 0).tanh().affine(scale: 0.5, shift: 0.5) }

  /// Log-softmax along `axis`.
  ///
  /// The maximum is subtracted as a *constant*. That is exact for every derivative order,
  /// because log-softmax is invariant to shifts.
  public func logSoftmax(alongAxis axis: Int = -1) -> Tensor {
    let shifted = self - max(alongAxis: axis, keepingShape: true).detached()
    return shifted - shifted.exp().sum(alongAxes: [axis], keepingShape: true).log()
  }

  /// Softmax along `axis`.
  public func softmax(alongAxis axis: Int = -1) -> Tensor { logSoftmax(alongAxis: axis).exp() }
}

/// Inverted dropout: zeroes each element with probability `probability` and scales the rest
/// by `1 / (1 − probability)`, so the expectation is unchanged.
public func dropout(_ x: Tensor, probability: Float,
                    using generator: inout some RandomNumberGenerator) -> Tensor {
  precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
  if probability == 0 { return x }
  var keep = [Bool](repeating: false, count: x.elementCount)
  for i in keep.indices { keep[i] = generator.nextUnitFloat() >= probability }
  return x.selecting(Mask(keep, shape: x.shape)) * (1 / (1 - probability))
}
