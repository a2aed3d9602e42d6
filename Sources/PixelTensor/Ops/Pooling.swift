/// Max pooling over `kernel` windows (PyTorch's `max_pool2d`, floor mode, implicit −∞ padding).
///
/// A gather of the windows' arg-max: the derivative goes to the first maximal element of each
/// window, and the second derivative is the adjoint scatter.
/// - Parameter stride: defaults to the kernel.
public func maxPool2D(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil,
                      padding: (Int, Int) = (0, 0)) -> Tensor {
  let s = stride ?? kernel
  precondition(padding.0 * 2 <= kernel.0 && padding.1 * 2 <= kernel.1,
               "max-pool padding must be at most half the kernel")
  let g = ConvGeometry(input: x.shape, kernel: kernel, stride: s, padding: padding)
  let outShape: Shape = [g.batch, g.channels, g.outHeight, g.outWidth]
  let values = TensorStorage(uninitializedCount: outShape.elementCount)
  let indices = x.withUnsafeBufferPointer { Pooling.windowArgMax(g, x: $0.baseAddress!, values: values.base) }
  // Recorded as the gather it is; the kernel already produced the gathered values. Each plane's
  // windows index only that plane, so the indices are blocked by plane.
  return .recorded(.gather(IndexBuffer.perPlane(indices, planes: g.batch * g.channels)), [x], shape: outShape,
                   storage: values)
}

/// Square-kernel convenience for ``maxPool2D(_:kernel:stride:padding:)``.
public func maxPool2D(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
  maxPool2D(x, kernel: (kernel, kernel), stride: stride.map { ($0, $0) }, padding: (padding, padding))
}

/// Average pooling over `kernel` windows; padded zeros count in the average
/// (PyTorch's default `count_include_pad=True`).
public func avgPool2D(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil,
                      padding: (Int, Int) = (0, 0)) -> Tensor {
  precondition(x.rank == 4, "avgPool2D needs NCHW input, got \(x.shape)")
  let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let g = ConvGeometry(input: [n * c, 1, h, w], kernel: kernel, stride: stride ?? kernel, padding: padding)
  let cols = x.reshaped(to: [n * c, 1, h, w]).im2col(g)
  return (cols.sum(toShape: [1, g.patchCount]) * (1 / Float(kernel.0 * kernel.1)))
    .reshaped(to: [n, c, g.outHeight, g.outWidth])
}

/// Square-kernel convenience for ``avgPool2D(_:kernel:stride:padding:)``.
public func avgPool2D(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) -> Tensor {
  avgPool2D(x, kernel: (kernel, kernel), stride: stride.map { ($0, $0) }, padding: (padding, padding))
}

/// The mean over each channel's plane: `[N, C, H, W] → [N, C]`.
public func globalAvgPool2D(_ x: Tensor) -> Tensor {
  precondition(x.rank == 4, "globalAvgPool2D needs NCHW input, got \(x.shape)")
  return x.mean(alongAxes: [2, 3])
}
