import Testing
import _TestSupport
import PixelTensor
@testable import PixelNN

@Suite("Layers")
struct LayerTests {
  @Test("layers apply the functional ops with their parameters")
  func layersMatchFunctionalOps() {
    var rng = SeededGenerator(seed: 1)
    let conv = Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, stride: 2, padding: 1, using: &rng)
    let x = Tensor.uniform([2, 2, 7, 7], using: &rng)
    #expect(conv(x).scalars == conv2D(x, weight: conv.weight.value, bias: conv.bias!.value, stride: 2, padding: 1).scalars)
    let bound = 1 / Float(2 * 9).squareRoot()
    #expect(conv.weight.value.max() <= bound && conv.weight.value.min() >= -bound)
    let deconv = ConvTranspose2D(inputChannels: 3, outputChannels: 2, kernelSize: 4, stride: 2, padding: 1, using: &rng)
    #expect(deconv(conv(x)).shape == [2, 2, 8, 8])
  }

  @Test("batch norm trains on batch statistics, updates running statistics, and infers with them")
  func batchNormModes() {
    var rng = SeededGenerator(seed: 2)
    let bn = BatchNorm(features: 3, momentum: 0.5)
    let x = Tensor.normal([8, 3, 2, 2], mean: 2, standardDeviation: 3, using: &rng)
    let y = bn(x)
    for m in y.mean(alongAxes: [0, 2, 3]).scalars { #expect(Swift.abs(m) < 1e-4) }
    #expect(bn.runningMean.value.scalars.allSatisfy { $0 > 0.3 })
    bn.setMode(.inference)
    let before = bn.runningMean.value.scalars
    let z = bn(x)
    #expect(bn.runningMean.value.scalars == before)
    #expect(z.scalars != y.scalars)
  }

  @Test("dropout is active only in training and reproducible after reseeding")
  func dropoutModes() {
    let d = Dropout(probability: 0.5, seed: 3)
    let x = Tensor.ones([1000])
    d.reseed(9)
    let a = d(x)
    d.reseed(9)
    #expect(d(x).scalars == a.scalars)
    #expect(a.scalars.contains(0))
    d.setMode(.inference)
    #expect(d(x).scalars == x.scalars)
  }

  @Test("normalize standardises per channel inside the model")
  func normalize() {
    let n = Normalize(mean: [0.5, 0.25], standardDeviation: [0.5, 0.25])
    let x = Tensor([1, 1, 0.5, 0.5], shape: [1, 2, 1, 2])
    #expect(n(x).scalars == [1, 1, 1, 1])
  }

  @Test("a residual adds its body to its shortcut (identity when empty)")
  func residual() {
    var rng = SeededGenerator(seed: 4)
    let lin = Linear(inputFeatures: 3, outputFeatures: 3, using: &rng)
    let r = Residual(body: Sequential([lin]), shortcut: Sequential([(name: String, layer: any Layer)]()))
    let x = Tensor.uniform([2, 3], using: &rng)
    #expect(relativeError(r(x), lin(x) + x) < 1e-6)
  }

}

@Suite("Sequential's ReLU/max-pool commutation")
struct CommutationTests {
  @Test("pooling before the ReLU gives the same values and first and second derivatives")
  func commutes() {
    var rng = SeededGenerator(seed: 7)
    let conv = Conv2D(inputChannels: 1, outputChannels: 3, kernelSize: 3, using: &rng)
    let fused = Sequential([conv, ReLU(), MaxPool2D(kernelSize: 2)])
    let x = Tensor.normal([2, 1, 9, 9], using: &rng).requiringGradient()
    let reference = maxPool2D(conv(x).relu(), kernel: 2)
    let y = fused(x)
    #expect(y.scalars == reference.scalars)
    let v = Tensor.normal(y.shape, using: &rng)
    let g1 = gradients(of: (y * y * v).sum(), wrt: [x, conv.weight.value], createGraph: true)
    let g2 = gradients(of: (reference * reference * v).sum(), wrt: [x, conv.weight.value], createGraph: true)
    #expect(g1[0].scalars == g2[0].scalars && g1[1].scalars == g2[1].scalars)
    let h1 = gradients(of: (g1[0] * g1[0]).sum(), wrt: [conv.weight.value])[0]
    let h2 = gradients(of: (g2[0] * g2[0]).sum(), wrt: [conv.weight.value])[0]
    #expect(zip(h1.scalars, h2.scalars).allSatisfy { Swift.abs($0 - $1) <= 1e-5 * Swift.max(1, Swift.abs($1)) })
  }
}

@Suite("Sequential's inference batch-norm folding")
struct BatchNormFoldingTests {
  @Test("a convolution and an inference batch norm fold into one convolution: values, first and second derivatives match the pair",
        arguments: [(bias: true, groups: 1, stride: 1), (bias: false, groups: 1, stride: 2), (bias: true, groups: 2, stride: 1)])
  func folds(_ c: (bias: Bool, groups: Int, stride: Int)) {
    var rng = SeededGenerator(seed: 21)
    let conv = Conv2D(inputChannels: 4, outputChannels: 6, kernelSize: 3, stride: c.stride, padding: 1, groups: c.groups,
                      bias: c.bias, using: &rng)
    let norm = BatchNorm(features: 6)
    norm.runningMean.value = Tensor.normal([6], standardDeviation: 0.3, using: &rng)
    norm.runningVar.value = Tensor.uniform([6], using: &rng) + 0.5
    norm.weight.value = Tensor.uniform([6], using: &rng) + 0.5
    norm.bias.value = Tensor.normal([6], standardDeviation: 0.2, using: &rng)
    let folded = Sequential([conv, norm, ReLU()])
    folded.setMode(.inference)
    let x = Tensor.normal([3, 4, 7, 7], using: &rng).requiringGradient()
    let y = folded(x)
    let reference = norm(conv(x)).relu()
    #expect(relativeError(y, reference) <= 1e-5)
    let v = Tensor.normal(y.shape, using: &rng)
    let wrt = [x, conv.weight.value, norm.weight.value, norm.bias.value]
    let g1 = gradients(of: (y * y * v).sum(), wrt: wrt, createGraph: true)
    let g2 = gradients(of: (reference * reference * v).sum(), wrt: wrt, createGraph: true)
    for (a, b) in zip(g1, g2) { #expect(relativeError(a, b) <= 1e-5) }
    // Second order: the derivative of ‖∂/∂x‖² (double backprop's penalty) in the parameters.
    let second = [conv.weight.value, norm.weight.value]
    let h1 = gradients(of: (g1[0] * g1[0]).sum(), wrt: second)
    let h2 = gradients(of: (g2[0] * g2[0]).sum(), wrt: second)
    for (a, b) in zip(h1, h2) { #expect(relativeError(a, b) <= 1e-4) }
  }

  @Test("a batch norm in training mode is not folded: batch statistics and running updates as before")
  func trainingModeIsNotFolded() {
    var rng = SeededGenerator(seed: 22)
    let conv = Conv2D(inputChannels: 2, outputChannels: 3, kernelSize: 3, padding: 1, using: &rng)
    let norm = BatchNorm(features: 3)
    let model = Sequential([conv, norm])
    let x = Tensor.normal([4, 2, 5, 5], using: &rng)
    let y = model(x)
    #expect(y.scalars == BatchNorm(features: 3)(conv(x)).scalars)
    #expect(norm.runningMean.value.scalars != [0, 0, 0])
  }
}

@Suite("Sequential's in-cache ReLUs")
struct InferenceReLUTests {
  @Test("recorded, the fused convolution + ReLU and residual sum + ReLU give the separate ops' bits to second order",
        arguments: [true, false])
  func recordedMatchesSeparateOps(_ convolutionRecorded: Bool) {
    var rng = SeededGenerator(seed: 24)
    let x0 = Tensor.normal([3, 2, 6, 6], using: &rng), w0 = Tensor.normal([4, 2, 3, 3], using: &rng) * 0.5
    let b0 = Tensor.normal([4], using: &rng)
    // Without a recorded convolution input, only the residual's sum + ReLU is recorded.
    let (x, w, b) = convolutionRecorded ? (x0.requiringGradient(), w0.requiringGradient(), b0.requiringGradient()) : (x0, w0, b0)
    let skip = Tensor.normal([3, 4, 6, 6], using: &rng).requiringGradient()
    let fused = conv2DReLU(x, weight: w, bias: b, padding: (1, 1)).addingReLU(skip)
    let separate = (conv2D(x, weight: w, bias: b, padding: (1, 1)).relu() + skip).relu()
    #expect(fused.scalars == separate.scalars)
    #expect(fused.scalars.contains { $0 == 0 } && fused.scalars.contains { $0 > 0 })
    let v = Tensor.normal(fused.shape, using: &rng)
    let wrt = convolutionRecorded ? [skip, x, w, b] : [skip]
    let g1 = gradients(of: (fused * fused * v).sum(), wrt: wrt, createGraph: true)
    let g2 = gradients(of: (separate * separate * v).sum(), wrt: wrt, createGraph: true)
    for (a, c) in zip(g1, g2) { #expect(a.scalars == c.scalars) }
    let h1 = gradients(of: (g1[0] * g1[0] * v).sum(), wrt: wrt)
    let h2 = gradients(of: (g2[0] * g2[0] * v).sum(), wrt: wrt)
    for (a, c) in zip(h1, h2) { #expect(a.scalars == c.scalars) }
  }

  @Test("convolution + ReLU, convolution + batch norm + ReLU and residual + ReLU give the separate ops' bits")
  func sameBits() {
    var rng = SeededGenerator(seed: 23)
    let conv = Conv2D(inputChannels: 3, outputChannels: 5, kernelSize: 3, padding: 1, using: &rng)
    let conv2 = Conv2D(inputChannels: 5, outputChannels: 5, kernelSize: 3, padding: 1, bias: false, using: &rng)
    let norm = BatchNorm(features: 5)
    norm.runningMean.value = Tensor.normal([5], standardDeviation: 0.3, using: &rng)
    norm.runningVar.value = Tensor.uniform([5], using: &rng) + 0.5
    let residual = Residual(body: Sequential([conv2, norm]), shortcut: Sequential([(name: String, layer: any Layer)]()))
    let model = Sequential([conv, ReLU(), residual, ReLU()])
    model.setMode(.inference)
    let x = Tensor.normal([4, 3, 9, 9], using: &rng)
    let fused = withoutGradients { model(x) }
    let separate = withoutGradients { () -> Tensor in
      let h = conv2D(x, weight: conv.weight.value, bias: conv.bias!.value, padding: (1, 1)).relu()
      return (conv2(h, foldingInference: norm) + h).relu()
    }
    #expect(fused.scalars == separate.scalars)
    // Recorded, the same values through the two ops' graph, and gradients reach the input.
    let probe = x.requiringGradient()
    let recorded = model(probe)
    #expect(recorded.scalars == fused.scalars)
    #expect(gradients(of: recorded.sum(), wrt: [probe])[0].scalars.contains { $0 != 0 })
    #expect(fused.scalars.allSatisfy { $0 >= 0 } && fused.scalars.contains { $0 > 0 })
  }
}

@Suite("Training-mode batch norm + ReLU in one pass")
struct TrainingBatchNormReLUTests {
  @Test("Sequential's fused batch norm + ReLU gives the separate ops' values, running statistics and derivatives to second order",
        arguments: [[5, 3, 4, 4], [6, 2, 3, 5], [4, 3]])
  func matchesSeparateOps(_ dims: [Int]) {
    var rng = SeededGenerator(seed: 31)
    let c = dims[1]
    let x = (Tensor.normal(Shape(dims), using: &rng) * 2 + 0.3).requiringGradient()
    let gamma = (Tensor.normal([c], using: &rng) + 1).requiringGradient(), beta = Tensor.normal([c], using: &rng).requiringGradient()
    let norm = BatchNorm(features: c)
    norm.weight.value = gamma
    norm.bias.value = beta
    let model = Sequential([norm, ReLU()])
    model.setMode(.training)
    let fused = model(x)
    let separate = batchNormTraining(x, weight: gamma, bias: beta, runningMean: .zeros([c]), runningVariance: .ones([c]))
    let reference = separate.output.relu()
    #expect(fused.scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern))
    #expect(fused.scalars.contains { $0 == 0 } && fused.scalars.contains { $0 > 0 })
    #expect(norm.runningMean.value.scalars == separate.runningMean.scalars)
    #expect(norm.runningVar.value.scalars == separate.runningVariance.scalars)
    let v = Tensor.normal(fused.shape, using: &rng)
    let wrt = [x, gamma, beta]
    let g1 = gradients(of: (fused * fused * v).sum(), wrt: wrt, createGraph: true)
    let g2 = gradients(of: (reference * reference * v).sum(), wrt: wrt, createGraph: true)
    for (a, b) in zip(g1, g2) { #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)) }
    let h1 = gradients(of: (g1[0] * g1[0]).sum() + g1[1].sum(), wrt: wrt)
    let h2 = gradients(of: (g2[0] * g2[0]).sum() + g2[1].sum(), wrt: wrt)
    for (a, b) in zip(h1, h2) { #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)) }
    // First order without a recorded backward pass (one pass for Σg and Σg·x) has the same bits.
    let plain = gradients(of: (fused * v).sum(), wrt: wrt)
    let plainReference = gradients(of: (reference * v).sum(), wrt: wrt)
    for (a, b) in zip(plain, plainReference) { #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)) }
  }

  @Test("a body ending in a training batch norm adds the skip and clamps in the normalization's pass: the separate ops' bits, statistics and derivatives to second order",
        arguments: [[5, 3, 4, 4], [6, 2, 3, 5], [4, 3]])
  func residualSumMatchesSeparateOps(_ dims: [Int]) {
    var rng = SeededGenerator(seed: 37)
    let c = dims[1]
    let x = (Tensor.normal(Shape(dims), using: &rng) * 2 + 0.3).requiringGradient()
    let skip = Tensor.normal(Shape(dims), using: &rng).requiringGradient()
    let gamma = (Tensor.normal([c], using: &rng) + 1).requiringGradient(), beta = Tensor.normal([c], using: &rng).requiringGradient()
    let norm = BatchNorm(features: c)
    norm.weight.value = gamma
    norm.bias.value = beta
    let body = Sequential([norm])
    body.setMode(.training)
    let fused = body(x, addingReLU: skip)
    let separate = batchNormTraining(x, weight: gamma, bias: beta, runningMean: .zeros([c]), runningVariance: .ones([c]))
    let reference = separate.output.addingReLU(skip)
    #expect(fused.scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern))
    #expect(fused.scalars.contains { $0 == 0 } && fused.scalars.contains { $0 > 0 })
    #expect(norm.runningMean.value.scalars == separate.runningMean.scalars)
    #expect(norm.runningVar.value.scalars == separate.runningVariance.scalars)
    let v = Tensor.normal(fused.shape, using: &rng)
    let wrt = [x, skip, gamma, beta]
    let g1 = gradients(of: (fused * fused * v).sum(), wrt: wrt, createGraph: true)
    let g2 = gradients(of: (reference * reference * v).sum(), wrt: wrt, createGraph: true)
    for (a, b) in zip(g1, g2) { #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)) }
    #expect(g1[1].scalars.contains { $0 != 0 })
    let h1 = gradients(of: (g1[0] * g1[0]).sum() + (g1[1] * g1[1]).sum() + g1[2].sum(), wrt: wrt)
    let h2 = gradients(of: (g2[0] * g2[0]).sum() + (g2[1] * g2[1]).sum() + g2[2].sum(), wrt: wrt)
    for (a, b) in zip(h1, h2) { #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)) }
    let plain = gradients(of: (fused * v).sum(), wrt: wrt)
    let plainReference = gradients(of: (reference * v).sum(), wrt: wrt)
    for (a, b) in zip(plain, plainReference) { #expect(a.scalars.map(\.bitPattern) == b.scalars.map(\.bitPattern)) }
  }
}
