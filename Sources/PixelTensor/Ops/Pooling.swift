/// How max pooling breaks ties: an element beats the window's best so far only if it exceeds it by
/// more than a relative tolerance τ (`v > best + τ·|best|`), so the first of tied elements wins,
/// PyTorch's rule for exactly equal values.
public enum MaxPoolTies {
  /// τ = 0: the exact first maximum, as PyTorch, and the default.
  ///
  /// The convolutions and row products give identical inputs identical bits wherever they sit
  /// (``KernelConfig/directKernels``), so a constant background's windows tie exactly and the
  /// first element wins at any batch size and on any CPU. Measured on a small CNN's map of 1,000
  /// Fashion-MNIST test images: 2.8·10⁻⁴ of the map's maximum from PyTorch's with τ = 0, 5.7·10⁻⁴
  /// with ``stable``; a torchvision ResNet-18's per-example input gradients: 1.3·10⁻⁶ relative
  /// error with τ = 0, 7·10⁻³ with ``stable``.
  public static let exact: Float = 0

  /// τ = 2⁻¹⁷ (7.6·10⁻⁶): values that close count as tied (the first wins), and the pooled value
  /// is the chosen element's, at most that much below the maximum.
  ///
  /// NOTE: this was the default while convolutions ran through OpenBLAS, which rounded
  /// identical inputs a few ulps differently depending on their place in a GEMM, so exact ties
  /// of constant backgrounds became near-ties that broke differently with the batch size. It
  /// remains for specs that ask for it (`tie_tolerance` 0x1p-17).
  public static let stable: Float = 0x1p-17

  /// The largest tolerance a layer may ask for.
  public static let maximum: Float = 0x1p-10
}

/// Max pooling over `kernel` windows (PyTorch's `max_pool2d`, floor mode, implicit −∞ padding).
///
/// A gather of the windows' arg-max: the derivative goes to the first maximal element of each
/// window, and the second derivative is the adjoint scatter.
/// - Parameters:
///   - stride: defaults to the kernel.
///   - tieTolerance: the relative tolerance under which values count as tied (``MaxPoolTies``).
public func maxPool2D(_ x: Tensor, kernel: (Int, Int), stride: (Int, Int)? = nil,
                      padding: (Int, Int) = (0, 0), tieTolerance: Float = MaxPoolTies.exact) -> Tensor {
  let s = stride ?? kernel
  precondition(padding.0 * 2 <= kernel.0 && padding.1 * 2 <= kernel.1,
               "max-pool padding must be at most half the kernel")
  let g = ConvGeometry(input: x.shape, kernel: kernel, stride: s, padding: padding)
  let outShape: Shape = [g.batch, g.channels, g.outHeight, g.outWidth]
  let values = TensorStorage(uninitializedCount: outShape.elementCount)
  let indices = x.withUnsafeBufferPointer { Pooling.windowArgMax(g, x: $0.baseAddress!, values: values.base,
                                                                               tolerance: tieTolerance) }
  // Recorded as the gather it is; the kernel already produced the gathered values. Each plane's
  // windows index only that plane, so the indices are blocked by plane.
  return .recorded(.gather(IndexBuffer.perPlane(indices, planes: g.batch * g.channels)), [x], shape: outShape,
                   storage: values)
}

/// Square-kernel convenience for ``maxPool2D(_:kernel:stride:padding:tieTolerance:)``.
public func maxPool2D(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0,
                      tieTolerance: Float = MaxPoolTies.exact) -> Tensor {
  maxPool2D(x, kernel: (kernel, kernel), stride: stride.map { ($0, $0) }, padding: (padding, padding), tieTolerance: tieTolerance)
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
