/// An affine map of a batch `x` `[N, in]`: `y = x·Wᵀ + b` with `W` `[out, in]` (PyTorch's layout).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
  precondition(x.rank == 2 && weight.rank == 2 && x.shape[1] == weight.shape[1],
               "linear: input \(x.shape) does not match weight \(weight.shape)")
  let y = matmul(x, weight, transposeB: true)
  guard let bias else { return y }
  return y + bias
}
