extension Tensor {
  /// The sum of all elements, as a rank-0 tensor.
  public func sum() -> Tensor { sum(toShape: []) }

  /// The mean of all elements, as a rank-0 tensor.
  public func mean() -> Tensor { sum() * (1 / Float(Swift.max(elementCount, 1))) }

  /// Sums along `axes` (negative axes count from the end).
  /// - Parameter keepingShape: Keep reduced axes with extent 1.
  public func sum(alongAxes axes: [Int], keepingShape: Bool = false) -> Tensor {
    let reduced = Set(axes.map(shape.normalizedAxis))
    let kept = Shape((0..<rank).map { reduced.contains($0) ? 1 : shape[$0] })
    let s = sum(toShape: kept)
    return keepingShape ? s : s.reshaped(to: Shape((0..<rank).filter { !reduced.contains($0) }.map { shape[$0] }))
  }

  /// Means along `axes`.
  public func mean(alongAxes axes: [Int], keepingShape: Bool = false) -> Tensor {
    let n = Set(axes.map(shape.normalizedAxis)).reduce(1) { $0 * shape[$1] }
    return sum(alongAxes: axes, keepingShape: keepingShape) * (1 / Float(Swift.max(n, 1)))
  }

  /// Flat indices of the extremum along `axis`, viewing the tensor as `[outer, axis, inner]`.
  private func extremumIndices(alongAxis axis: Int, largest: Bool) -> (IndexStorage, Int, Int) {
    let a = shape.normalizedAxis(axis)
    precondition(shape[a] > 0, "cannot reduce an empty axis of \(shape)")
    let outer = shape.dims[..<a].reduce(1, *), inner = shape.dims[(a + 1)...].reduce(1, *)
    return (Reduction.argExtremum(storage.base, outer: outer, axisLength: shape[a], inner: inner,
                                  largest: largest), a, inner)
  }

  private func extremum(alongAxis axis: Int, keepingShape: Bool, largest: Bool) -> Tensor {
    let (idx, a, _) = extremumIndices(alongAxis: axis, largest: largest)
    var dims = shape.dims
    if keepingShape { dims[a] = 1 } else { dims.remove(at: a) }
    // NOTE: a gather of the arg-extremum: the derivative goes to the first maximal element
    // only (no tie splitting), and second order is a scatter (adjoint pair).
    return gathering(IndexBuffer(storage: idx), shape: Shape(dims))
  }

  /// Maxima along `axis`; ties send the gradient to the first maximal element.
  public func max(alongAxis axis: Int, keepingShape: Bool = false) -> Tensor {
    extremum(alongAxis: axis, keepingShape: keepingShape, largest: true)
  }

  /// Minima along `axis`; ties send the gradient to the first minimal element.
  public func min(alongAxis axis: Int, keepingShape: Bool = false) -> Tensor {
    extremum(alongAxis: axis, keepingShape: keepingShape, largest: false)
  }

  /// Positions along `axis` of the maxima (first on ties), flattened over the other axes.
  public func argmax(alongAxis axis: Int) -> [Int] { argExtremum(alongAxis: axis, largest: true) }

  /// Positions along `axis` of the minima (first on ties).
  public func argmin(alongAxis axis: Int) -> [Int] { argExtremum(alongAxis: axis, largest: false) }

  private func argExtremum(alongAxis axis: Int, largest: Bool) -> [Int] {
    let (idx, a, inner) = extremumIndices(alongAxis: axis, largest: largest)
    let len = shape[a]
    return (0..<idx.count).map { (Int(idx.base[$0]) / inner) % len }
  }

  /// The largest element (NaN if any element is NaN).
  public func max() -> Float { reshaped(to: [elementCount]).max(alongAxis: 0).detached().item }

  /// The smallest element (NaN if any element is NaN).
  public func min() -> Float { reshaped(to: [elementCount]).min(alongAxis: 0).detached().item }

  /// Per-sample L2 norms `‖x_n‖₂` over all axes but the first, shaped `[N]`.
  public func l2NormPerSample() -> Tensor {
    let n = shape[0]
    return reshaped(to: [n, elementCount / Swift.max(n, 1)]).squared().sum(alongAxes: [1]).squareRoot()
  }
}

extension Tensor {
  /// A per-pixel map: `[H, W]` as is, or the channel mean of `[C, H, W]`, as a constant.
  public func channelMeanMap() -> Tensor {
    precondition(rank == 2 || rank == 3, "a map is [H, W] or [C, H, W], got \(shape)")
    return rank == 3 ? withoutGradients { mean(alongAxes: [0]) } : detached()
  }
}
