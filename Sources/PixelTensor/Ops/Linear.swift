/// An affine map of a batch `x` `[N, in]`: `y = x·Wᵀ + b` with `W` `[out, in]` (PyTorch's layout).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
  precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
               "linear: input \(x.shape) does not match weight \(weight.shape)")
  guard let bias else { return matmul(x, weight, transposeB: true) }
  precondition(bias.shape == [weight.shape[0]], "linear bias must be [\(weight.shape[0])], got \(bias.shape)")
  return matmul(x, weight, addingBias: bias, perRow: false, transposeB: true)
}
