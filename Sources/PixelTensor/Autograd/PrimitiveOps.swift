/// The forward half of each primitive: run a kernel, then record a node when a gradient can
/// flow (grad mode on and some input requires a gradient). Constants pay no graph cost.
extension Tensor {
  @usableFromInline
  static func recorded(_ primitive: Primitive, _ inputs: [Tensor], shape: Shape,
                       storage: TensorStorage) -> Tensor {
    var out = Tensor(shape: shape, storage: storage)
    if inputs.contains(where: { $0.node != nil }) && GradMode.isEnabled {
      out.node = GraphNode(primitive: primitive, inputs: inputs, output: storage, outputShape: shape)
    }
    return out
  }

  func unary(_ op: UnaryOp, _ p: Primitive) -> Tensor {
    let out = TensorStorage(uninitializedCount: elementCount)
    Elementwise.map(op, storage.base, out.base, count: elementCount)
    return .recorded(p, [self], shape: shape, storage: out)
  }

  static func binary(_ op: BinaryOp, _ p: Primitive, _ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "\(p) needs equal shapes, got \(a.shape) and \(b.shape)")
    let out = TensorStorage(uninitializedCount: a.elementCount)
    Elementwise.zip(op, a.storage.base, b.storage.base, out.base, count: a.elementCount)
    return .recorded(p, [a, b], shape: a.shape, storage: out)
  }

  // MARK: Unary

  /// `scale · x + shift` elementwise, with constant scalars.
  public func affine(scale: Float, shift: Float) -> Tensor {
    unary(.affine(scale: scale, shift: shift), .affine(scale: scale, shift: shift))
  }

  /// Elementwise `eˣ`.
  public func exp() -> Tensor { unary(.exp, .exp) }
  /// Elementwise natural logarithm.
  public func log() -> Tensor { unary(.log, .log) }
  /// Elementwise `log(1 + x)`, accurate for small `x`.
  public func log1p() -> Tensor { unary(.log1p, .log1p) }
  /// Elementwise square root.
  public func squareRoot() -> Tensor { unary(.sqrt, .sqrt) }
  /// Elementwise hyperbolic tangent.
  public func tanh() -> Tensor { unary(.tanh, .tanh) }
  /// Elementwise `1 / x`.
  public func reciprocal() -> Tensor { unary(.reciprocal, .reciprocal) }
  /// Elementwise negation.
  public static prefix func - (x: Tensor) -> Tensor { x.unary(.negate, .negate) }

  /// `mask ? x : 0` elementwise; the mask is a constant and must have this tensor's shape.
  ///
  /// A true select: elements off the mask become 0 even when they are infinite or NaN.
  public func selecting(_ mask: Mask) -> Tensor {
    precondition(mask.shape == shape, "mask \(mask.shape) does not match tensor \(shape)")
    let out = TensorStorage(uninitializedCount: elementCount)
    Elementwise.select(storage.base, mask.storage.base, out.base, count: elementCount)
    return .recorded(.select(mask), [self], shape: shape, storage: out)
  }

  // MARK: Shape

  /// The same elements viewed with another shape of equal element count (no copy).
  public func reshaped(to newShape: Shape) -> Tensor {
    precondition(newShape.elementCount == elementCount, "cannot reshape \(shape) to \(newShape)")
    if newShape == shape { return self }
    return .recorded(.reshape(newShape), [self], shape: newShape, storage: storage)
  }

  /// Axes reordered: output axis `k` is input axis `permutation[k]`.
  public func permuted(_ permutation: [Int]) -> Tensor {
    precondition(permutation.sorted() == Array(0..<rank), "\(permutation) is not a permutation of \(rank) axes")
    if permutation == Array(0..<rank) { return self }
    let outShape = Shape(permutation.map { shape[$0] })
    let inStrides = shape.strides
    let out = TensorStorage(uninitializedCount: elementCount)
    Strided.copy(.init(dims: outShape.dims, srcStrides: permutation.map { inStrides[$0] },
                       dstStrides: outShape.strides), src: storage.base, dst: out.base)
    return .recorded(.permute(permutation), [self], shape: outShape, storage: out)
  }

  /// Copies stretched to `target` by NumPy broadcasting (axes right-aligned, extent 1 stretches).
  public func broadcast(to target: Shape) -> Tensor {
    if target == shape { return self }
    precondition(shape.isBroadcastable(to: target), "cannot broadcast \(shape) to \(target)")
    let out = TensorStorage(uninitializedCount: target.elementCount)
    Strided.copy(.init(dims: target.dims, srcStrides: Strided.broadcastStrides(input: shape, output: target),
                       dstStrides: target.strides), src: storage.base, dst: out.base)
    return .recorded(.broadcast(target), [self], shape: target, storage: out)
  }

  /// Sums over the axes that broadcasting `target` to this shape would stretch: the adjoint
  /// of ``broadcast(to:)``.
  public func sum(toShape target: Shape) -> Tensor {
    if target == shape { return self }
    precondition(target.isBroadcastable(to: shape), "cannot sum \(shape) to \(target)")
    let out = TensorStorage(count: target.elementCount, repeating: 0)
    if let plane = perChannelPlane(of: target), plane >= 8 {
      // Per-channel sums of [N, C, H, W] (batch norm, convolution biases) in one channel-parallel
      // pass; the strided accumulator's general walk was 2.6% of a ResNet training step.
      Channelwise.sum(storage.base, out.base, batch: shape[0], channels: shape[1], plane: plane)
    } else {
      Strided.accumulate(.init(dims: shape.dims, srcStrides: shape.strides,
                               dstStrides: Strided.broadcastStrides(input: target, output: shape)),
                         src: storage.base, dst: out.base, dstCount: target.elementCount)
    }
    return .recorded(.sumToShape(target), [self], shape: target, storage: out)
  }

  /// `y[c] = Σ_{n, …} self[n, c, …]`, `[C]`: the per-channel sums of an `[N, C, …]` tensor
  /// (batch norm's statistics and gradients), through ``sum(toShape:)``.
  func channelSums() -> Tensor {
    sum(toShape: Shape([1, shape[1]] + [Int](repeating: 1, count: rank - 2))).reshaped(to: [shape[1]])
  }

  /// `(channelSums(), channelDot(other))`: unrecorded, in one pass over this tensor with the same
  /// bits (batch norm's backward pass); recorded (double backprop), the two primitives.
  func channelSumsAndDot(_ other: Tensor) -> (sums: Tensor, dots: Tensor) {
    let c = shape[1]
    guard !isRecording, !other.isRecording, other.shape == shape, rank >= 3,
          let plane = perChannelPlane(of: Shape([1, c] + [Int](repeating: 1, count: rank - 2))), plane >= 8 else {
      return (channelSums(), channelDot(other))
    }
    let sums = TensorStorage(uninitializedCount: c), dots = TensorStorage(uninitializedCount: c)
    Channelwise.sumAndDot(storage.base, other.storage.base, sums: sums.base, dots: dots.base, batch: shape[0],
                          channels: c, plane: plane)
    return (Tensor(shape: [c], storage: sums), Tensor(shape: [c], storage: dots))
  }

  /// The plane size when `target` keeps axis 1 only (`[1, C, 1, …]` of `[N, C, …]`), else nil.
  private func perChannelPlane(of target: Shape) -> Int? {
    guard rank >= 3, target.rank == rank, target[0] == 1, target[1] == shape[1],
          (2..<rank).allSatisfy({ target[$0] == 1 }) else { return nil }
    return elementCount / Swift.max(shape[0] * shape[1], 1)
  }

  /// Zero padding around each axis.
  public func padded(_ padding: [Padding]) -> Tensor {
    precondition(padding.count == rank, "padding needs one entry per axis of \(shape)")
    if padding.allSatisfy({ $0.before == 0 && $0.after == 0 }) { return self }
    let outShape = Shape((0..<rank).map { shape[$0] + padding[$0].before + padding[$0].after })
    let out = TensorStorage(count: outShape.elementCount, repeating: 0)
    let outStrides = outShape.strides
    let offset = (0..<rank).reduce(0) { $0 + padding[$1].before * outStrides[$1] }
    Strided.copy(.init(dims: shape.dims, srcStrides: shape.strides, dstStrides: outStrides),
                 src: storage.base, dst: out.base + offset)
    return .recorded(.pad(padding), [self], shape: outShape, storage: out)
  }

  /// The block of extents `shape` starting at `starts`.
  public func slice(starts: [Int], shape outShape: Shape) -> Tensor {
    precondition(starts.count == rank && outShape.rank == rank
                 && (0..<rank).allSatisfy { starts[$0] >= 0 && starts[$0] + outShape[$0] <= shape[$0] },
                 "slice at \(starts) of extents \(outShape) exceeds \(shape)")
    if outShape == shape { return self }
    let inStrides = shape.strides
    let offset = (0..<rank).reduce(0) { $0 + starts[$1] * inStrides[$1] }
    let out = TensorStorage(uninitializedCount: outShape.elementCount)
    Strided.copy(.init(dims: outShape.dims, srcStrides: inStrides, dstStrides: outShape.strides),
                 src: storage.base + offset, dst: out.base)
    return .recorded(.slice(starts: starts), [self], shape: outShape, storage: out)
  }

  /// Joins tensors along `axis`; all other extents must agree.
  public static func concatenate(_ parts: [Tensor], alongAxis axis: Int) -> Tensor {
    precondition(!parts.isEmpty, "concatenate needs at least one tensor")
    let a = parts[0].shape.normalizedAxis(axis)
    if parts.count == 1 { return parts[0] }
    var dims = parts[0].shape.dims
    dims[a] = 0
    for p in parts {
      precondition(p.rank == dims.count && (0..<p.rank).allSatisfy { $0 == a || p.shape[$0] == dims[$0] },
                   "cannot concatenate \(p.shape) with \(parts[0].shape) along axis \(a)")
      dims[a] += p.shape[a]
    }
    let outShape = Shape(dims)
    let outStrides = outShape.strides
    let out = TensorStorage(uninitializedCount: outShape.elementCount)
    var offset = 0
    for p in parts {
      Strided.copy(.init(dims: p.shape.dims, srcStrides: p.shape.strides, dstStrides: outStrides),
                   src: p.storage.base, dst: out.base + offset * outStrides[a])
      offset += p.shape[a]
    }
    return .recorded(.concatenate(axis: a), parts, shape: outShape, storage: out)
  }

  // MARK: Windows and indexing

  /// The patch matrix `[C·kh·kw, N·oh·ow]` of an NCHW batch (see ``ConvGeometry``).
  public func im2col(_ geometry: ConvGeometry) -> Tensor {
    precondition(shape == geometry.inputShape, "im2col geometry expects \(geometry.inputShape), got \(shape)")
    let outShape = geometry.columnShape
    let out = TensorStorage(uninitializedCount: outShape.elementCount)
    Im2Col.forward(geometry, x: storage.base, cols: out.base)
    return .recorded(.im2col(geometry), [self], shape: outShape, storage: out)
  }

  /// The adjoint of ``im2col(_:)``: adds each patch entry back onto its pixel.
  public func col2im(_ geometry: ConvGeometry) -> Tensor {
    precondition(shape == geometry.columnShape, "col2im geometry expects \(geometry.columnShape), got \(shape)")
    let outShape = geometry.inputShape
    let out = TensorStorage(uninitializedCount: outShape.elementCount)
    Im2Col.backward(geometry, cols: storage.base, x: out.base)
    return .recorded(.col2im(geometry), [self], shape: outShape, storage: out)
  }

  /// `y[n, c, …] = x[n, c, …]·scale[c] + shift[c]` over axis 1 of an `[N, C, …]` tensor, in one
  /// pass (batch norm's normalisation); `scale` and `shift` are `[C]` and differentiable.
  public func channelAffine(scale: Tensor, shift: Tensor) -> Tensor {
    precondition(rank >= 2 && scale.shape == [shape[1]] && shift.shape == [shape[1]],
                 "channelAffine needs [N, C, …] with [C] scale and shift, got \(shape), \(scale.shape), \(shift.shape)")
    let out = TensorStorage(uninitializedCount: elementCount)
    let c = shape[1]
    Channelwise.affine(storage.base, scale: scale.storage.base, shift: shift.storage.base, out.base, batch: shape[0], channels: c,
                       plane: elementCount / Swift.max(shape[0] * c, 1))
    return .recorded(.channelAffine, [self, scale, shift], shape: shape, storage: out)
  }

  /// `y[n, c, …] = self[n, c, …]·scale[c] + (other[n, c, …]·otherScale[c] + shift[c])`: two
  /// per-channel affine maps summed in one pass (batch norm's input gradient, `g·γr + x·a + b`);
  /// all five operands are differentiable.
  public func channelAffine(scale: Tensor, adding other: Tensor, scaledBy otherScale: Tensor, shift: Tensor) -> Tensor {
    let c = rank >= 2 ? shape[1] : 0
    precondition(rank >= 2 && other.shape == shape && [scale, otherScale, shift].allSatisfy { $0.shape == [c] },
                 "channelAffine(scale:adding:scaledBy:shift:) needs two [N, C, …] tensors of one shape and [C] factors, got "
                 + "\(shape), \(other.shape), \(scale.shape), \(otherScale.shape), \(shift.shape)")
    let out = TensorStorage(uninitializedCount: elementCount)
    Channelwise.affinePair(storage.base, scale: scale.storage.base, other.storage.base, scale: otherScale.storage.base,
                           shift: shift.storage.base, out.base, batch: shape[0], channels: c,
                           plane: elementCount / Swift.max(shape[0] * c, 1))
    return .recorded(.channelAffinePair, [self, scale, other, otherScale, shift], shape: shape, storage: out)
  }

  /// `y[c] = Σ_{n, …} self[n, c, …]·other[n, c, …]`: per-channel inner products of two `[N, C, …]`
  /// tensors of one shape (batch norm's reductions), accumulated in `Double` per channel.
  public func channelDot(_ other: Tensor) -> Tensor {
    precondition(rank >= 2 && other.shape == shape, "channelDot needs two [N, C, …] tensors of one shape, got \(shape), \(other.shape)")
    let c = shape[1]
    let out = TensorStorage(uninitializedCount: c)
    Channelwise.dot(storage.base, other.storage.base, out.base, batch: shape[0], channels: c,
                    plane: elementCount / Swift.max(shape[0] * c, 1))
    return .recorded(.channelDot, [self, other], shape: [c], storage: out)
  }

  /// `y.flat[i] = x.flat[indices[i]]`, shaped `shape`.
  public func gathering(_ indices: IndexBuffer, shape outShape: Shape) -> Tensor {
    precondition(indices.count == outShape.elementCount, "\(indices.count) indices for shape \(outShape)")
    let out = TensorStorage(uninitializedCount: outShape.elementCount)
    GatherScatter.gather(storage.base, count: elementCount, indices: indices, out: out.base)
    return .recorded(.gather(indices), [self], shape: outShape, storage: out)
  }

  /// `y = 0; y.flat[indices[i]] += x.flat[i]`, shaped `into`.
  public func scatteringAdd(_ indices: IndexBuffer, into outShape: Shape) -> Tensor {
    precondition(indices.count == elementCount, "\(indices.count) indices for \(elementCount) elements")
    let out = TensorStorage(uninitializedCount: outShape.elementCount)
    GatherScatter.scatterAdd(storage.base, indices: indices, out: out.base, count: outShape.elementCount)
    return .recorded(.scatterAdd(indices), [self], shape: outShape, storage: out)
  }
}

// MARK: Binary

/// `(m, k, n)` of `op(a)·op(b)`, checked.
private func matmulExtents(_ a: Tensor, _ b: Tensor, _ tA: Bool, _ tB: Bool) -> (Int, Int, Int) {
  precondition(a.rank == 2 && b.rank == 2, "matmul needs 2-D tensors, got \(a.shape) and \(b.shape)")
  let m = tA ? a.shape[1] : a.shape[0], k = tA ? a.shape[0] : a.shape[1]
  let kb = tB ? b.shape[1] : b.shape[0], n = tB ? b.shape[0] : b.shape[1]
  precondition(k == kb, "matmul inner extents differ: \(a.shape)\(tA ? "ᵀ" : "") · \(b.shape)\(tB ? "ᵀ" : "")")
  return (m, k, n)
}

/// `c = op(a)·op(b) (+ bias[n])`: row by row in a fixed order when `a` is not transposed (its
/// rows are usually examples, whose results must not depend on the batch: ``RowGEMM``), else
/// through OpenBLAS (a sum over the rows of `a`, such as a weight gradient).
private func product(_ a: Tensor, _ b: Tensor, _ tA: Bool, _ tB: Bool, m: Int, n: Int, k: Int,
                     columnBias: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
  if !tA {
    RowGEMM.multiply(m: m, n: n, k: k, a: a.storage.base, lda: a.shape[1], b: b.storage.base, ldb: b.shape[1],
                     transposeB: tB, bias: columnBias, c: out, ldc: n)
    return
  }
  if let columnBias {
    for i in 0..<m { (out + i * n).update(from: columnBias, count: n) }
  }
  sgemm(transposeA: tA, transposeB: tB, m: m, n: n, k: k, a: a.storage.base, lda: a.shape[1],
        b: b.storage.base, ldb: b.shape[1], beta: columnBias == nil ? 0 : 1, c: out, ldc: n)
}

/// Matrix product `op(a)·op(b)` of 2-D tensors, where `op` transposes when asked.
public func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
  let (m, k, n) = matmulExtents(a, b, transposeA, transposeB)
  let out = TensorStorage(uninitializedCount: m * n)
  product(a, b, transposeA, transposeB, m: m, n: n, k: k, columnBias: nil, into: out.base)
  return .recorded(.matmul(transposeA: transposeA, transposeB: transposeB), [a, b], shape: [m, n], storage: out)
}

/// `op(a)·op(b) + bias` in one pass: the bias (`[m]` per row, or `[n]` per column) starts each
/// output's sum (a per-row bias is added after the product).
public func matmul(_ a: Tensor, _ b: Tensor, addingBias bias: Tensor, perRow: Bool,
                   transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
  let (m, k, n) = matmulExtents(a, b, transposeA, transposeB)
  precondition(bias.elementCount == (perRow ? m : n), "bias of \(bias.elementCount) for a \(m)×\(n) product \(perRow ? "per row" : "per column")")
  let out = TensorStorage(uninitializedCount: m * n)
  let bp = bias.storage.base
  product(a, b, transposeA, transposeB, m: m, n: n, k: k, columnBias: perRow ? nil : bp, into: out.base)
  if perRow {
    for i in 0..<m { for j in 0..<n { out.base[i * n + j] += bp[i] } }
  }
  return .recorded(.matmulBias(transposeA: transposeA, transposeB: transposeB, perRow: perRow), [a, b, bias],
                   shape: [m, n], storage: out)
}

// MARK: Convolution triangle

/// `conv(x, W) + b` for an NCHW batch with OIHW weights (`groups = 1`), the primitive behind
/// ``conv2D(_:weight:bias:stride:padding:dilation:groups:)``. With a `rectifier` the buffer holds
/// the rectified values instead (the caller records the sum and ReLU that explain them).
func convolution(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry, rectifier: Rectifier? = nil,
                 epilogue: (@Sendable (Range<Int>, UnsafePointer<Float>) -> Void)? = nil) -> Tensor {
  precondition(x.shape == g.inputShape, "convolution expects \(g.inputShape), got \(x.shape)")
  let o = weight.shape[0]
  precondition(weight.elementCount == o * g.patchSize, "weight \(weight.shape) does not fit \(g.patchSize)-element patches")
  let outShape: Shape = [g.batch, o, g.outHeight, g.outWidth]
  let out = TensorStorage(uninitializedCount: outShape.elementCount)
  let y = UnsafeSharedConst(UnsafePointer(out.base))
  var chunkEpilogue: (@Sendable (Range<Int>) -> Void)? = nil
  if let epilogue { chunkEpilogue = { samples in epilogue(samples, y.pointer) } }
  ConvolutionKernels.forward(g, x: x.storage.base, w: weight.storage.base, outChannels: o, bias: bias?.storage.base,
                             y: out.base, rectifier: rectifier, epilogue: chunkEpilogue)
  let inputs = bias.map { [x, weight, $0] } ?? [x, weight]
  return .recorded(.convolution(g, bias: bias != nil), inputs, shape: outShape, storage: out)
}

/// `(x − μ)·r·γ + β` with the batch's statistics `μ`, `r = 1/√(σ² + ε)` (per channel, over every
/// axis but 1), as one `batchNormTraining` node; also returns `μ` and the biased `σ²` as constants.
/// The forward bits are those of ``batchNorm(_:mean:variance:weight:bias:epsilon:)`` on
/// ``batchStatistics(_:)``. With `relu`, the output is the ReLU's, written in the same pass, and
/// with `skip` too, `relu(normalized + skip)` (a residual block's sum); when recorded, the graph is
/// the separate ops' (the batch-norm node, the sum's node, then a select node with the ReLU's
/// mask) sharing the clamped buffer, which is safe because no VJP of these reads its node's
/// output and the normalized values do not escape.
func batchNormalized(_ x: Tensor, weight gamma: Tensor, bias beta: Tensor, epsilon: Float, relu: Bool = false,
                     adding skip: Tensor? = nil) -> (output: Tensor, mean: Tensor, variance: Tensor) {
  let c = x.shape[1]
  let (mean, variance, inverse, scale, shift) = withoutGradients { () -> (Tensor, Tensor, Tensor, Tensor, Tensor) in
    let (m, v) = batchStatistics(x.detached())
    let r = (v + epsilon).squareRoot().reciprocal()
    let s = r * gamma.detached()
    return (m, v, r, s, beta.detached() - m * s)
  }
  let out = TensorStorage(uninitializedCount: x.elementCount)
  let batch = x.shape[0], plane = x.elementCount / Swift.max(x.shape[0] * c, 1)
  let recording = x.isRecording || gamma.isRecording || beta.isRecording || (skip?.isRecording ?? false)
  let mask = relu && recording ? ByteStorage(count: x.elementCount) : nil
  if relu {
    withExtendedLifetime(skip) {
      Channelwise.affineReLU(x.storage.base, scale: scale.storage.base, shift: shift.storage.base,
                             adding: skip.map { UnsafePointer($0.storage.base) }, out.base, mask: mask?.base,
                             batch: batch, channels: c, plane: plane)
    }
  } else {
    Channelwise.affine(x.storage.base, scale: scale.storage.base, shift: shift.storage.base, out.base, batch: batch,
                       channels: c, plane: plane)
  }
  let statistics = BatchStatistics(mean: mean, inverseDeviation: inverse, epsilon: epsilon)
  let normalized = Tensor.recorded(.batchNormTraining(statistics), [x, gamma, beta], shape: x.shape, storage: out)
  guard let mask else { return (normalized, mean, variance) }
  let y = skip.map { Tensor.recorded(.add, [normalized, $0], shape: x.shape, storage: out) } ?? normalized
  return (.recorded(.select(Mask(shape: y.shape, storage: mask)), [y], shape: y.shape, storage: out), mean, variance)
}

/// `maxPool(conv(x, W) + b)`: each chunk of samples is pooled right after its convolution output
/// is written, while it is in cache, instead of in a second pass that reads the whole output
/// back from memory. The graph is the one the two calls record (the convolution node, then the
/// pooling gather), so derivatives of every order are unchanged.
func convolutionMaxPool(_ x: Tensor, weight: Tensor, bias: Tensor?, geometry g: ConvGeometry,
                        poolKernel: (Int, Int), poolStride: (Int, Int), poolPadding: (Int, Int), tieTolerance: Float) -> Tensor {
  let o = weight.shape[0]
  let pg = ConvGeometry(input: [g.batch, o, g.outHeight, g.outWidth], kernel: poolKernel, stride: poolStride,
                        padding: poolPadding)
  let pooledShape: Shape = [g.batch, o, pg.outHeight, pg.outWidth]
  let values = TensorStorage(uninitializedCount: pooledShape.elementCount)
  let indices = IndexStorage(count: pooledShape.elementCount)
  let vs = UnsafeShared(values.base), ixs = UnsafeShared(indices.base)
  let y = convolution(x, weight: weight, bias: bias, geometry: g) { samples, y in
    Pooling.argMax(pg, x: y, planes: (samples.lowerBound * o)..<(samples.upperBound * o), indices: ixs.pointer,
                   values: vs.pointer, tolerance: tieTolerance)
  }
  return .recorded(.gather(IndexBuffer.perPlane(indices, planes: g.batch * o)), [y], shape: pooledShape,
                   storage: values)
}

/// `convᵀ(gy, W)`: the adjoint of ``convolution(_:weight:bias:geometry:)`` in `x`, shaped like `x`.
func convolutionInputGradient(_ gy: Tensor, weight: Tensor, geometry g: ConvGeometry) -> Tensor {
  let o = weight.shape[0]
  precondition(gy.shape == [g.batch, o, g.outHeight, g.outWidth], "output gradient \(gy.shape) does not fit the geometry")
  let out = TensorStorage(uninitializedCount: g.inputShape.elementCount)
  ConvolutionKernels.inputGradient(g, gy: gy.storage.base, w: weight.storage.base, outChannels: o, dx: out.base)
  return .recorded(.convolutionInputGradient(g), [gy, weight], shape: g.inputShape, storage: out)
}

/// `Σ_n gy[n] ⋆ x[n]`: the adjoint of ``convolution(_:weight:bias:geometry:)`` in `W`, shaped
/// `[O, C, kh, kw]`.
func convolutionWeightGradient(_ x: Tensor, outputGradient gy: Tensor, geometry g: ConvGeometry) -> Tensor {
  precondition(x.shape == g.inputShape && gy.rank == 4 && gy.shape[0] == g.batch, "inputs do not fit the geometry")
  let o = gy.shape[1]
  let outShape: Shape = [o, g.channels, g.kernelHeight, g.kernelWidth]
  let out = TensorStorage(uninitializedCount: outShape.elementCount)
  ConvolutionKernels.weightGradient(g, x: x.storage.base, gy: gy.storage.base, outChannels: o, dw: out.base)
  return .recorded(.convolutionWeightGradient(g), [x, gy], shape: outShape, storage: out)
}
