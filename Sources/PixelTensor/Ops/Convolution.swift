/// 2-D convolution (cross-correlation, as PyTorch) of an NCHW batch: per chunk of samples,
/// `W[O, C·kh·kw] · im2col(x)[C·kh·kw, n·oh·ow]`, written straight into NCHW.
///
/// - Parameters:
///   - x: `[N, C, H, W]`.
///   - weight: `[O, C/groups, kh, kw]` (OIHW).
///   - bias: `[O]` or `nil`.
/// - Returns: `[N, O, oh, ow]` with `oh = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1`.
/// - Complexity: `O · C·kh·kw · N·oh·ow` multiply-adds in per-chunk GEMMs.
public func conv2D(_ x: Tensor, weight: Tensor, bias: Tensor? = nil,
                   stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                   dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
  precondition(x.rank == 4 && weight.rank == 4, "conv2D needs NCHW input and OIHW weight, got \(x.shape), \(weight.shape)")
  let c = x.shape[1], o = weight.shape[0]
  precondition(groups >= 1 && c % groups == 0 && o % groups == 0 && weight.shape[1] == c / groups,
               "conv2D: input channels \(c), weight \(weight.shape) and groups \(groups) disagree")
  if let bias { precondition(bias.shape == [o], "conv2D bias must be [\(o)], got \(bias.shape)") }
  let y: Tensor
  if groups == 1 {
    // The kernel adds the bias in its in-cache pass back to NCHW.
    return convolveGroup(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation)
  } else {
    let cg = c / groups, og = o / groups
    let parts = (0..<groups).map { gi -> Tensor in
      let xs = x.slice(starts: [0, gi * cg, 0, 0], shape: [x.shape[0], cg, x.shape[2], x.shape[3]])
      let ws = weight.slice(starts: [gi * og, 0, 0, 0], shape: [og, cg, weight.shape[2], weight.shape[3]])
      return convolveGroup(xs, weight: ws, bias: nil, stride: stride, padding: padding, dilation: dilation)
    }
    y = Tensor.concatenate(parts, alongAxis: 1)
  }
  guard let bias else { return y }
  return y + bias.reshaped(to: [1, o, 1, 1])
}

/// `relu(conv2D(x, W, b))` with the output clamped right after it is written, while it is in
/// cache (by the direct kernel, a block of channels at a time), instead of in a second pass over
/// the whole output; the values are the same. When recorded, the graph is the two ops' (a
/// convolution node, then a select node with the ReLU's mask, written in the same pass); the
/// nodes share the clamped buffer, which is safe because neither VJP reads its node's output and
/// the convolution's output does not escape.
public func conv2DReLU(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                       padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1), groups: Int = 1) -> Tensor {
  guard groups == 1, x.rank == 4, weight.rank == 4, weight.shape[1] == x.shape[1] else {
    return conv2D(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups).relu()
  }
  let o = weight.shape[0]
  if let bias { precondition(bias.shape == [o], "conv2D bias must be [\(o)], got \(bias.shape)") }
  let g = ConvGeometry(input: x.shape, kernel: (weight.shape[2], weight.shape[3]), stride: stride,
                       padding: padding, dilation: dilation)
  guard x.isRecording || weight.isRecording || (bias?.isRecording ?? false) else {
    return convolution(x, weight: weight, bias: bias, geometry: g, rectifier: Rectifier())
  }
  let mask = ByteStorage(count: g.batch * o * g.outHeight * g.outWidth)
  let y = convolution(x, weight: weight, bias: bias, geometry: g, rectifier: Rectifier(mask: mask.base))
  return .recorded(.select(Mask(shape: y.shape, storage: mask)), [y], shape: y.shape, storage: y.storage)
}

/// `relu(conv2D(x, W, b) + skip)` for a `skip` of the output's shape (a residual block's last
/// convolution, its sum and ReLU). The output adds `skip` and clamps right after it is written,
/// while it is in cache (in the direct kernel, a block of channels at a time): the bits of
/// ``Tensor/addingReLU(_:)`` on the convolution, one pass over memory fewer. Recorded, the graph
/// is that composition's (convolution, sum, select with the ReLU's mask) with the three nodes
/// sharing one buffer, as ``conv2DReLU(_:weight:bias:stride:padding:dilation:groups:)`` does: no
/// VJP of the three reads its node's output, and the pre-activation values do not escape.
public func conv2DAddingReLU(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, adding skip: Tensor,
                             stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
                             groups: Int = 1) -> Tensor {
  guard groups == 1, x.rank == 4, weight.rank == 4, weight.shape[1] == x.shape[1] else {
    return conv2D(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation, groups: groups)
      .addingReLU(skip)
  }
  let o = weight.shape[0]
  if let bias { precondition(bias.shape == [o], "conv2D bias must be [\(o)], got \(bias.shape)") }
  let g = ConvGeometry(input: x.shape, kernel: (weight.shape[2], weight.shape[3]), stride: stride,
                       padding: padding, dilation: dilation)
  guard skip.shape == [g.batch, o, g.outHeight, g.outWidth] else {
    return conv2D(x, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation).addingReLU(skip)
  }
  let other = UnsafePointer(skip.storage.base)
  let recorded = x.isRecording || weight.isRecording || (bias?.isRecording ?? false) || skip.isRecording
  guard recorded else {
    return withExtendedLifetime(skip) {
      convolution(x, weight: weight, bias: bias, geometry: g, rectifier: Rectifier(adding: other))
    }
  }
  let mask = ByteStorage(count: skip.elementCount)
  let y = withExtendedLifetime(skip) {
    convolution(x, weight: weight, bias: bias, geometry: g, rectifier: Rectifier(adding: other, mask: mask.base))
  }
  let sum = Tensor.recorded(.add, [y, skip], shape: y.shape, storage: y.storage)
  return .recorded(.select(Mask(shape: y.shape, storage: mask)), [sum], shape: y.shape, storage: y.storage)
}

/// Convenience overload with square kernels' scalar stride and padding.
public func conv2D(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int, padding: Int = 0,
                   dilation: Int = 1, groups: Int = 1) -> Tensor {
  conv2D(x, weight: weight, bias: bias, stride: (stride, stride), padding: (padding, padding),
         dilation: (dilation, dilation), groups: groups)
}

private func convolveGroup(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: (Int, Int), padding: (Int, Int),
                           dilation: (Int, Int)) -> Tensor {
  let g = ConvGeometry(input: x.shape, kernel: (weight.shape[2], weight.shape[3]), stride: stride,
                       padding: padding, dilation: dilation)
  return convolution(x, weight: weight, bias: bias, geometry: g)
}

/// `maxPool2D(conv2D(x, W, b), …)` in one pass over the batch: each chunk of samples is pooled
/// while its convolution output is still in cache. Values and the recorded graph equal the two
/// calls'; only memory traffic differs. `groups = 1`.
/// - Parameters:
///   - poolStride: defaults to the pooling kernel.
///   - tieTolerance: the pooling's relative tie tolerance (``MaxPoolTies``).
public func conv2DMaxPool(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: (Int, Int) = (1, 1),
                          padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1),
                          poolKernel: (Int, Int), poolStride: (Int, Int)? = nil,
                          poolPadding: (Int, Int) = (0, 0), tieTolerance: Float = MaxPoolTies.exact) -> Tensor {
  precondition(x.rank == 4 && weight.rank == 4 && weight.shape[1] == x.shape[1],
               "conv2DMaxPool needs NCHW input and OIHW weight with groups = 1, got \(x.shape), \(weight.shape)")
  if let bias { precondition(bias.shape == [weight.shape[0]], "conv2D bias must be [\(weight.shape[0])], got \(bias.shape)") }
  precondition(poolPadding.0 * 2 <= poolKernel.0 && poolPadding.1 * 2 <= poolKernel.1,
               "max-pool padding must be at most half the kernel")
  let g = ConvGeometry(input: x.shape, kernel: (weight.shape[2], weight.shape[3]), stride: stride,
                       padding: padding, dilation: dilation)
  return convolutionMaxPool(x, weight: weight, bias: bias, geometry: g, poolKernel: poolKernel,
                            poolStride: poolStride ?? poolKernel, poolPadding: poolPadding, tieTolerance: tieTolerance)
}

/// Transposed 2-D convolution (the adjoint of ``conv2D(_:weight:bias:stride:padding:dilation:groups:)``
/// in `x`), as PyTorch's `conv_transpose2d`.
///
/// - Parameters:
///   - x: `[N, Cin, H, W]`.
///   - weight: `[Cin, Cout, kh, kw]` (PyTorch's layout).
/// - Returns: `[N, Cout, Hout, Wout]` with `Hout = (H − 1)·s − 2p + d·(kh − 1) + outputPadding + 1`.
public func convTranspose2D(_ x: Tensor, weight: Tensor, bias: Tensor? = nil,
                            stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                            outputPadding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) -> Tensor {
  precondition(x.rank == 4 && weight.rank == 4 && weight.shape[0] == x.shape[1],
               "convTranspose2D: input \(x.shape) does not match weight \(weight.shape)")
  precondition(outputPadding.0 >= 0 && outputPadding.1 >= 0
               && (outputPadding.0 < stride.0 || outputPadding.0 < dilation.0)
               && (outputPadding.1 < stride.1 || outputPadding.1 < dilation.1),
               "output padding must be smaller than stride or dilation")
  let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
  let cout = weight.shape[1], kh = weight.shape[2], kw = weight.shape[3]
  let hout = (h - 1) * stride.0 - 2 * padding.0 + dilation.0 * (kh - 1) + outputPadding.0 + 1
  let wout = (w - 1) * stride.1 - 2 * padding.1 + dilation.1 * (kw - 1) + outputPadding.1 + 1
  let g = ConvGeometry(input: [n, cout, hout, wout], kernel: (kh, kw), stride: stride,
                       padding: padding, dilation: dilation)
  precondition(g.outHeight == h && g.outWidth == w, "convTranspose2D geometry mismatch")
  // The adjoint of a convolution with OIHW weight [Cin, Cout, kh, kw] from [N, Cout, Hout, Wout].
  let y = convolutionInputGradient(x, weight: weight, geometry: g)
  guard let bias else { return y }
  precondition(bias.shape == [cout], "convTranspose2D bias must be [\(cout)], got \(bias.shape)")
  return y + bias.reshaped(to: [1, cout, 1, 1])
}
