import Testing
import PixelTensor
import _TestSupport

extension GradientCase: CustomTestStringConvertible {
  public var testDescription: String { name }
}

/// Every primitive and composite, checked to first and second order against central
/// differences accumulated in Double.
enum GradientTable {
  static let primitives: [GradientCase] = [
    .init("add", shapes: [[3, 4], [3, 4]]) { $0[0] + $0[1] },
    .init("add broadcast", shapes: [[3, 4], [4]]) { $0[0] + $0[1] },
    .init("subtract broadcast", shapes: [[2, 3, 4], [3, 1]]) { $0[0] - $0[1] },
    .init("multiply", shapes: [[3, 4], [3, 4]]) { $0[0] * $0[1] },
    .init("multiply broadcast", shapes: [[2, 1, 4], [3, 1]]) { $0[0] * $0[1] },
    .init("divide", shapes: [[3, 4], [3, 4]], domain: .positive) { $0[0] / $0[1] },
    .init("negate", shapes: [[5]]) { -$0[0] },
    .init("affine", shapes: [[2, 3]]) { $0[0].affine(scale: -1.5, shift: 0.25) },
    .init("exp", shapes: [[3, 4]]) { $0[0].exp() },
    .init("log", shapes: [[3, 4]], domain: .positive) { $0[0].log() },
    .init("log1p", shapes: [[3, 4]], domain: .positive) { $0[0].log1p() },
    .init("sqrt", shapes: [[3, 4]], domain: .positive) { $0[0].squareRoot() },
    .init("tanh", shapes: [[3, 4]]) { $0[0].tanh() },
    .init("reciprocal", shapes: [[3, 4]], domain: .positive) { $0[0].reciprocal() },
    .init("select", shapes: [[4, 5]]) { x in
      x[0].selecting(Mask((0..<20).map { $0 % 3 != 0 }, shape: [4, 5])) * x[0]
    },
    .init("matmul", shapes: [[3, 4], [4, 2]]) { matmul($0[0], $0[1]) },
    .init("matmul Aᵀ", shapes: [[4, 3], [4, 2]]) { matmul($0[0], $0[1], transposeA: true) },
    .init("matmul Bᵀ", shapes: [[3, 4], [2, 4]]) { matmul($0[0], $0[1], transposeB: true) },
    .init("matmul AᵀBᵀ", shapes: [[4, 3], [2, 4]]) { matmul($0[0], $0[1], transposeA: true, transposeB: true) },
    .init("matmul squared", shapes: [[3, 3]]) { matmul($0[0], $0[0]) * $0[0] },
    .init("matmul + bias per row", shapes: [[3, 4], [4, 2], [3]]) {
      matmul($0[0], $0[1], addingBias: $0[2], perRow: true).squared()
    },
    .init("matmul + bias per column, Bᵀ", shapes: [[3, 4], [2, 4], [2]]) {
      matmul($0[0], $0[1], addingBias: $0[2], perRow: false, transposeB: true).squared()
    },
    .init("matmul + bias, Aᵀ", shapes: [[4, 3], [4, 2], [2]]) {
      matmul($0[0], $0[1], addingBias: $0[2], perRow: false, transposeA: true) * $0[2]
    },
    .init("broadcast", shapes: [[3, 1]]) { $0[0].broadcast(to: [2, 3, 4]) * $0[0].broadcast(to: [2, 3, 4]) },
    .init("sumToShape", shapes: [[2, 3, 4]]) { $0[0].sum(toShape: [3, 1]).squared() },
    .init("sumToShape per channel", shapes: [[2, 3, 3, 3]]) { $0[0].sum(toShape: [1, 3, 1, 1]).squared() },
    .init("reshape", shapes: [[2, 6]]) { $0[0].reshaped(to: [3, 4]) * $0[0].reshaped(to: [3, 4]) },
    .init("permute", shapes: [[2, 3, 4]]) { $0[0].permuted([2, 0, 1]).squared() },
    .init("pad", shapes: [[2, 3]]) { $0[0].padded([Padding(1, 0), Padding(2, 1)]).squared() },
    .init("slice", shapes: [[4, 5]]) { $0[0].slice(starts: [1, 2], shape: [2, 3]).squared() },
    .init("concatenate", shapes: [[2, 3], [2, 2]]) { Tensor.concatenate([$0[0], $0[1]], alongAxis: 1).squared() },
    .init("im2col", shapes: [[2, 2, 5, 4]]) { x in
      x[0].im2col(ConvGeometry(input: [2, 2, 5, 4], kernel: (3, 2), stride: (2, 1), padding: (1, 1))).squared()
    },
    .init("col2im", shapes: [[6, 18]]) { x in
      x[0].col2im(ConvGeometry(input: [2, 1, 4, 5], kernel: (2, 3), stride: (1, 1), padding: (0, 0))).squared()
    },
    .init("channelAffine", shapes: [[2, 3, 2, 2], [3], [3]]) { $0[0].channelAffine(scale: $0[1], shift: $0[2]).squared() },
    .init("channelAffine [N, C]", shapes: [[4, 3], [3], [3]]) { $0[0].channelAffine(scale: $0[1], shift: $0[2]) * $0[0] },
    .init("channelAffinePair", shapes: [[2, 3, 2, 2], [3], [2, 3, 2, 2], [3], [3]]) {
      $0[0].channelAffine(scale: $0[1], adding: $0[2], scaledBy: $0[3], shift: $0[4]).squared()
    },
    .init("channelAffinePair, one tensor twice", shapes: [[2, 2, 3, 3], [2], [2], [2]]) {
      $0[0].channelAffine(scale: $0[1], adding: $0[0], scaledBy: $0[2], shift: $0[3]) * $0[0]
    },
    .init("channelDot", shapes: [[2, 3, 2, 2], [2, 3, 2, 2]]) { $0[0].channelDot($0[1]).squared() },
    .init("channelDot with itself", shapes: [[3, 2, 5]]) { $0[0].channelDot($0[0]) * $0[0].channelDot($0[0]) },
    .init("gather", shapes: [[3, 4]]) { $0[0].gathering(IndexBuffer([0, 5, 5, 11, 2]), shape: [5]).squared() },
    .init("scatterAdd", shapes: [[5]]) { $0[0].scatteringAdd(IndexBuffer([0, 5, 5, 11, 2]), into: [3, 4]).squared() },
  ]

  static let composites: [GradientCase] = [
    .init("relu", shapes: [[4, 5]]) { $0[0].relu() * $0[0] },
    .init("leakyReLU", shapes: [[4, 5]]) { $0[0].leakyReLU(slope: 0.1) * $0[0] },
    .init("softplus", shapes: [[4, 5]]) { $0[0].softplus() },
    .init("sigmoid", shapes: [[4, 5]]) { $0[0].sigmoid() },
    .init("abs", shapes: [[4, 5]]) { $0[0].abs() * $0[0] },
    .init("raised to 1.5", shapes: [[4, 5]], domain: .positive) { $0[0].raised(to: 1.5) },
    .init("clamped", shapes: [[4, 5]]) { $0[0].clamped(to: -0.5...0.7).squared() },
    .init("softmax", shapes: [[3, 5]]) { $0[0].softmax(alongAxis: 1) },
    .init("logSoftmax", shapes: [[3, 5]]) { $0[0].logSoftmax(alongAxis: 1) },
    .init("logSoftmax axis 0", shapes: [[4, 3]]) { $0[0].logSoftmax(alongAxis: 0) },
    .init("crossEntropy mean", shapes: [[5, 10]]) { crossEntropy(logits: $0[0], labels: [1, 0, 9, 3, 3]) },
    .init("crossEntropy sum", shapes: [[5, 10]]) { crossEntropy(logits: $0[0], labels: [1, 0, 9, 3, 3], reduction: .sum) },
    .init("crossEntropy none", shapes: [[5, 10]]) { crossEntropy(logits: $0[0], labels: [1, 0, 9, 3, 3], reduction: .none) },
    .init("crossEntropy smoothing", shapes: [[5, 10]]) {
      crossEntropy(logits: $0[0], labels: [1, 0, 9, 3, 3], labelSmoothing: 0.1)
    },
    .init("mean along axes", shapes: [[2, 3, 4]]) { $0[0].mean(alongAxes: [0, 2]).squared() },
    .init("max along axis", shapes: [[3, 5]], domain: .distinct) { $0[0].max(alongAxis: 1).squared() },
    .init("min along axis", shapes: [[3, 5]], domain: .distinct) { $0[0].min(alongAxis: 0).squared() },
    .init("l2 norm per sample", shapes: [[3, 2, 2]]) { $0[0].l2NormPerSample() },
    .init("linear", shapes: [[5, 7], [4, 7], [4]]) { linear($0[0], weight: $0[1], bias: $0[2]).tanh() },
    .init("conv2D s1 p0", shapes: [[2, 2, 6, 6], [3, 2, 3, 3], [3]]) {
      (conv2D($0[0], weight: $0[1], bias: $0[2]) * 0.2).tanh()
    },
    .init("conv2D s2 p1", shapes: [[2, 3, 5, 5], [4, 3, 3, 3]]) {
      (conv2D($0[0], weight: $0[1], stride: 2, padding: 1) * 0.2).tanh()
    },
    .init("conv2D dilation 2", shapes: [[1, 2, 7, 7], [2, 2, 3, 3]]) {
      (conv2D($0[0], weight: $0[1], stride: 1, dilation: 2) * 0.2).tanh()
    },
    .init("conv2D groups 2", shapes: [[2, 4, 5, 5], [6, 2, 3, 3], [6]]) {
      (conv2D($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 1, groups: 2) * 0.2).tanh()
    },
    .init("convTranspose2D", shapes: [[2, 4, 4, 3], [4, 3, 3, 3], [3]]) {
      convTranspose2D($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1),
                      outputPadding: (1, 1)).affine(scale: 0.2, shift: 0).tanh()
    },
    .init("maxPool2D k2", shapes: [[2, 2, 5, 5]], domain: .distinct) { maxPool2D($0[0], kernel: 2).squared() },
    .init("maxPool2D k3 s2 p1", shapes: [[1, 2, 6, 6]], domain: .distinct) {
      maxPool2D($0[0], kernel: 3, stride: 2, padding: 1).squared()
    },
    .init("conv2DReLU, addingReLU", shapes: [[2, 2, 5, 5], [3, 2, 3, 3], [3], [2, 3, 5, 5]]) {
      conv2DReLU($0[0], weight: $0[1], bias: $0[2], padding: (1, 1)).addingReLU($0[3]).squared()
    },
    // The skip is doubled so that fewer sums sit within a difference step of the ReLU's kink.
    .init("conv2DAddingReLU", shapes: [[2, 2, 5, 5], [3, 2, 3, 3], [3], [2, 3, 5, 5]]) {
      conv2DAddingReLU($0[0], weight: $0[1], bias: $0[2], adding: $0[3] * 2, padding: (1, 1)).squared()
    },
    .init("conv2DMaxPool", shapes: [[2, 2, 7, 7], [3, 2, 3, 3], [3]]) {
      (conv2DMaxPool($0[0], weight: $0[1], bias: $0[2], padding: (1, 1), poolKernel: (2, 2)) * 0.2).tanh()
    },
    .init("avgPool2D", shapes: [[2, 2, 5, 4]]) { avgPool2D($0[0], kernel: 2, padding: 1).squared() },
    .init("globalAvgPool2D", shapes: [[2, 3, 4, 4]]) { globalAvgPool2D($0[0]).squared() },
    .init("batchNorm training", shapes: [[4, 3, 2, 2], [3], [3]]) { x in
      let (m, v) = batchStatistics(x[0])
      return batchNorm(x[0], mean: m, variance: v, weight: x[1], bias: x[2]).tanh()
    },
    .init("batchNorm 2D training, fused", shapes: [[4, 3, 2, 2], [3], [3]]) { x in
      batchNormTraining(x[0], weight: x[1], bias: x[2], runningMean: .zeros([3]), runningVariance: .ones([3])).output.tanh()
    },
    .init("batchNorm 2D training, fused, no affine", shapes: [[3, 2, 3, 2]]) { x in
      batchNormTraining(x[0], weight: nil, bias: nil, runningMean: .zeros([2]), runningVariance: .ones([2])).output.tanh()
    },
    // Planes of 9: the unrecorded backward pass takes Σg and Σg·x in one pass.
    .init("batchNorm 2D training, fused, wide planes", shapes: [[2, 2, 3, 3], [2], [2]]) { x in
      batchNormTraining(x[0], weight: x[1], bias: x[2], runningMean: .zeros([2]), runningVariance: .ones([2])).output.tanh()
    },
    .init("batchNorm 2D training + ReLU in one pass", shapes: [[2, 2, 3, 3], [2], [2]]) { x in
      batchNormTraining(x[0], weight: x[1], bias: x[2], runningMean: .zeros([2]), runningVariance: .ones([2]),
                        relu: true).output.squared()
    },
    .init("batchNorm 2D training + skip + ReLU in one pass", shapes: [[2, 2, 3, 3], [2], [2], [2, 2, 3, 3]]) { x in
      batchNormTraining(x[0], weight: x[1], bias: x[2], runningMean: .zeros([2]), runningVariance: .ones([2]),
                        relu: true, adding: x[3]).output.squared()
    },
    .init("batchNorm 1D training", shapes: [[6, 3], [3], [3]]) { x in
      batchNormTraining(x[0], weight: x[1], bias: x[2], runningMean: .zeros([3]), runningVariance: .ones([3])).output.tanh()
    },
    .init("batchNorm inference", shapes: [[4, 3, 2, 2], [3], [3]]) { x in
      batchNorm(x[0], mean: Tensor([0.1, -0.2, 0.3], shape: [3]), variance: Tensor([0.5, 1.5, 2], shape: [3]),
                weight: x[1], bias: x[2]).tanh()
    },
    .init("dropout", shapes: [[4, 6]]) { x in
      var rng = SeededGenerator(seed: 3)
      return dropout(x[0], probability: 0.3, using: &rng) * x[0]
    },
    .init("stack", shapes: [[2, 3], [2, 3]]) { Tensor.stack([$0[0], $0[1]], alongAxis: 1).squared() },
    .init("rows at", shapes: [[4, 3]]) { $0[0].rows(at: [3, 1, 1]).squared() },
  ]

  static let all = primitives + composites
}

@Suite("Gradients of every primitive and composite")
struct GradientTests {
  @Test("first order matches central differences", arguments: GradientTable.all)
  func firstOrder(_ c: GradientCase) {
    var rng = SeededGenerator(seed: 0xC0FFEE)
    let report = checkDirectionalDerivative(c.function, at: c.inputs(using: &rng), using: &rng)
    #expect(report.relativeError < 1e-2, "\(c.name): \(report)")
  }

  @Test("Hessian-vector products match differences of gradients", arguments: GradientTable.all)
  func hessianVectorProduct(_ c: GradientCase) {
    var rng = SeededGenerator(seed: 7)
    let report = checkSecondOrder(c.function, at: c.inputs(using: &rng), using: &rng)
    #expect(report.relativeError < 5e-2, "\(c.name): \(report)")
  }

  static let mixed: [GradientCase] = [
    .init("linear tanh", shapes: [[3, 5], [4, 5], [4]]) {
      crossEntropy(logits: linear($0[0], weight: $0[1], bias: $0[2]).tanh(), labels: [0, 3, 1])
    },
    .init("conv relu", shapes: [[2, 1, 6, 6], [3, 1, 3, 3], [3]]) {
      crossEntropy(logits: conv2D($0[0], weight: $0[1], bias: $0[2]).relu().mean(alongAxes: [2, 3]), labels: [2, 0])
    },
    .init("conv softplus maxpool", shapes: [[2, 1, 6, 6], [3, 1, 3, 3], [3]]) {
      let h = maxPool2D(conv2D($0[0], weight: $0[1], bias: $0[2]).softplus(), kernel: 2)
      return crossEntropy(logits: h.mean(alongAxes: [2, 3]), labels: [1, 2])
    },
    .init("conv batch-norm (training) softplus", shapes: [[3, 1, 5, 5], [3, 1, 3, 3], [3], [3]]) {
      let h = batchNormTraining(conv2D($0[0], weight: $0[1], padding: (1, 1)), weight: $0[2], bias: $0[3],
                                runningMean: .zeros([3]), runningVariance: .ones([3])).output.softplus()
      return crossEntropy(logits: h.mean(alongAxes: [2, 3]), labels: [1, 2, 0])
    },
    .init("fused conv maxpool softplus", shapes: [[2, 1, 6, 6], [3, 1, 3, 3], [3]]) {
      let h = conv2DMaxPool($0[0], weight: $0[1], bias: $0[2], poolKernel: (2, 2)).softplus()
      return crossEntropy(logits: h.mean(alongAxes: [2, 3]), labels: [1, 2])
    },
  ]

  @Test("input-to-weight mixed partials ∂/∂θ ⟨∇ₓL, v⟩", arguments: mixed)
  func mixedPartials(_ c: GradientCase) {
    var rng = SeededGenerator(seed: 11)
    let inputs = c.inputs(using: &rng)
    let report = checkSecondOrder(c.function, at: inputs, first: [0], second: Set(1..<inputs.count), using: &rng)
    #expect(report.relativeError < 5e-2, "\(c.name): \(report)")
    // The mixed partial of a ReLU net is non-zero: the check must not pass trivially.
    #expect(Swift.abs(report.analytic) > 1e-4, "\(c.name): mixed partial vanished: \(report)")
  }
}

@Suite("The fused training batch norm against its composition")
struct FusedBatchNormTests {
  @Test("values (bit for bit), first and second derivatives equal the composition through batchStatistics",
        arguments: [[5, 4, 3, 3], [3, 2, 4, 5], [7, 3]])
  func matchesComposition(_ shape: [Int]) {
    var rng = SeededGenerator(seed: 31)
    let c = shape[1]
    let x = (Tensor.normal(Shape(shape), using: &rng) * 2 + 0.5).requiringGradient()
    let gamma = (Tensor.uniform([c], using: &rng) + 0.5).requiringGradient()
    let beta = Tensor.normal([c], using: &rng).requiringGradient()
    let fused = batchNormTraining(x, weight: gamma, bias: beta, runningMean: .zeros([c]), runningVariance: .ones([c])).output
    let (m, v) = batchStatistics(x)
    let composed = batchNorm(x, mean: m, variance: v, weight: gamma, bias: beta)
    #expect(fused.scalars == composed.scalars)
    let weights = Tensor.normal(Shape(shape), using: &rng)
    let wrt = [x, gamma, beta]
    let g1 = gradients(of: (fused.tanh() * weights).sum(), wrt: wrt, createGraph: true)
    let g2 = gradients(of: (composed.tanh() * weights).sum(), wrt: wrt, createGraph: true)
    for (a, b) in zip(g1, g2) { #expect(relativeError(a, b) <= 1e-5) }
    // Second order through the recorded VJP: double backprop's ‖∂/∂x‖² in x and γ.
    let h1 = gradients(of: (g1[0] * g1[0]).sum(), wrt: [x, gamma])
    let h2 = gradients(of: (g2[0] * g2[0]).sum(), wrt: [x, gamma])
    for (a, b) in zip(h1, h2) { #expect(relativeError(a, b) <= 1e-4) }
    // A first-order pass (reusing the forward statistics) gives the recorded pass's values.
    let plain = gradients(of: (fused.tanh() * weights).sum(), wrt: wrt)
    for (a, b) in zip(plain, g1) { #expect(relativeError(a, b) <= 1e-6) }
  }
}
