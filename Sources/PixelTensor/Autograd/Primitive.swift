/// The closed set of differentiable primitives.
///
/// Every public op in `Ops/` is a composite of these. Because every VJP in
/// `Derivatives.swift` is itself written with these primitives, gradients are differentiable
/// to any order when computed with `createGraph: true`. Binary primitives take equal shapes;
/// broadcasting is an explicit ``broadcast(_:)`` inserted by the front end.
///
/// Linear adjoint pairs close the set: matmul/matmul (matmulBias: matmul and sumToShape), broadcast/sumToShape, reshape/reshape,
/// permute/inverse permute, pad/slice, concatenate/slice, im2col/col2im, gather/scatterAdd,
/// select/select, affine/affine, channelAffine/channelDot (each is linear in every operand but
/// one, and its VJPs are the other), batchNormTraining (its VJP is written with channelAffine,
/// channelDot and sums, and recomputes the statistics from x when it is itself recorded), and
/// the convolution triangle: convolution, its input gradient and its weight gradient are each
/// other's VJPs (the three are bilinear, and every VJP of one
/// is one of the other two).
@usableFromInline
enum Primitive: Sendable {
  /// A leaf created by `requiringGradient()`.
  case leaf
  case add, subtract, multiply, divide
  case negate
  /// `scale · x + shift` with constant scalars.
  case affine(scale: Float, shift: Float)
  case exp, log, log1p, sqrt, tanh, reciprocal
  /// `mask ? x : 0` with a constant mask.
  case select(Mask)
  /// 2-D matrix product `op(A)·op(B)`.
  case matmul(transposeA: Bool, transposeB: Bool)
  /// `op(A)·op(B) + bias`, the bias broadcast along rows (one per row) or columns: a fused
  /// GEMM (bias preloaded, `beta = 1`) that saves a broadcast and an add per layer.
  case matmulBias(transposeA: Bool, transposeB: Bool, perRow: Bool)
  case broadcast(Shape)
  case sumToShape(Shape)
  case reshape(Shape)
  case permute([Int])
  /// Zero padding: `(before, after)` per axis.
  case pad([Padding])
  /// A contiguous block starting at `starts`; its extents are the node's output shape.
  case slice(starts: [Int])
  case concatenate(axis: Int)
  case im2col(ConvGeometry)
  case col2im(ConvGeometry)
  /// `y = conv(x, W) (+ b)`: a 2-D convolution computed in cache-sized chunks of samples.
  case convolution(ConvGeometry, bias: Bool)
  /// `dx = convᵀ(gy, W)`: the adjoint of `convolution` in `x` (a transposed convolution).
  case convolutionInputGradient(ConvGeometry)
  /// `dW = Σ_n gy[n] ⋆ x[n]`: the adjoint of `convolution` in `W`.
  case convolutionWeightGradient(ConvGeometry)
  /// `y[n, c, …] = x[n, c, …]·s[c] + t[c]` for inputs `(x, s, t)`: a per-channel affine map in
  /// one pass (batch norm) with no broadcast copies of `s` and `t`.
  case channelAffine
  /// `y = a·s[c] + (b·u[c] + t[c])` for inputs `(a, s, b, u, t)`, `a` and `b` `[N, C, …]`: two
  /// channel affine maps and their sum in one pass (batch norm's input gradient).
  case channelAffinePair
  /// `y[c] = Σ_{n, …} a[n, c, …]·b[n, c, …]` for inputs `(a, b)`: channelAffine's adjoint in `s`.
  case channelDot
  /// Batch normalization with the batch's own statistics, `y = (x − μ)·r·γ + β` for inputs
  /// `(x, γ, β)` with `μ`, `r = 1/√(σ² + ε)` over every axis but 1: one node instead of the ten
  /// of its composition, with the closed-form VJP (which is written in primitives).
  case batchNormTraining(BatchStatistics)
  /// `y[i] = x.flat[idx[i]]`; the output shape is the node's.
  case gather(IndexBuffer)
  /// `y = 0; y.flat[idx[i]] += x[i]`; the output shape is the node's.
  case scatterAdd(IndexBuffer)

  /// Whether the VJP reads the inputs' values (and so the node must keep them alive).
  var readsInputs: Bool {
    switch self {
    case .multiply, .divide, .log, .log1p, .matmul, .matmulBias, .convolution, .convolutionInputGradient,
         .convolutionWeightGradient, .channelAffine, .channelAffinePair, .channelDot, .batchNormTraining: return true
    default: return false
    }
  }

  /// Whether the VJP reads the output's values.
  var readsOutput: Bool {
    switch self {
    case .exp, .sqrt, .tanh, .reciprocal: return true
    default: return false
    }
  }
}

/// The statistics a training-mode batch norm computed in its forward pass: constants (no graph),
/// reused by a first-order VJP, which would otherwise recompute the same bits.
@usableFromInline
struct BatchStatistics: Sendable {
  /// Per-channel batch mean `μ` and `r = 1/√(σ² + ε)`, `[C]`.
  let mean: Tensor, inverseDeviation: Tensor
  let epsilon: Float
}

/// Zero padding on one axis: elements added before and after.
public struct Padding: Hashable, Sendable {
  public var before: Int, after: Int
  public init(_ before: Int, _ after: Int) {
    precondition(before >= 0 && after >= 0, "padding must be non-negative")
    self.before = before; self.after = after
  }
}
