import Foundation
import Testing
import PixelTensor

@Suite("Op semantics and conventions")
struct OpsTests {
  @Test("broadcasting arithmetic follows NumPy")
  func broadcasting() {
    let a = Tensor([1, 2, 3], shape: [3, 1]), b = Tensor([10, 20], shape: [2])
    #expect((a + b).shape == [3, 2])
    #expect((a + b).scalars == [11, 21, 12, 22, 13, 23])
    #expect((a * 2 - 1).scalars == [1, 3, 5])
    #expect((1 - a).scalars == [0, -1, -2])
    #expect((6 / a).scalars == [6, 3, 2])
  }

  @Test("conventions: relu'(0) = 0, sign(0) = 0, first index wins ties, relu(−∞) = 0")
  func conventions() {
    let x = Tensor([0], shape: [1]).requiringGradient()
    #expect(gradients(of: x.relu().sum(), wrt: [x])[0].item == 0)
    #expect(Tensor([-2, 0, 3], shape: [3]).sign().scalars == [-1, 0, 1])
    let t = Tensor([1, 5, 5, 2], shape: [1, 4]).requiringGradient()
    #expect(t.argmax(alongAxis: 1) == [1])
    #expect(gradients(of: t.max(alongAxis: 1).sum(), wrt: [t])[0].scalars == [0, 1, 0, 0])
    #expect(Tensor([-.infinity, .nan, 2], shape: [3]).relu().scalars[0] == 0)
  }

  @Test("softmax rows sum to one; cross-entropy of uniform logits is log K")
  func softmaxAndCrossEntropy() {
    var rng = SeededGenerator(seed: 8)
    let logits = Tensor.normal([4, 7], standardDeviation: 30, using: &rng)
    for s in logits.softmax(alongAxis: 1).sum(alongAxes: [1]).scalars { #expect(Swift.abs(s - 1) < 1e-5) }
    let ce = crossEntropy(logits: .zeros([3, 10]), labels: [0, 4, 9])
    #expect(Swift.abs(ce.item - Float(2.302585)) < 1e-5)
    // Non-uniform logits [0, ln 2, ln 4] for label 0: p = [1, 2, 4]/7, so CE = ln 7 and the
    // uniform term is mean_k(−ln p_k) = ln 7 − ln 8 / 3; smoothing 0.2 mixes them 0.8 : 0.2.
    let skewed = Tensor([0, Float(log(2.0)), Float(log(4.0))], shape: [1, 3])
    let plain = crossEntropy(logits: skewed, labels: [0]).item
    let smoothed = crossEntropy(logits: skewed, labels: [0], labelSmoothing: 0.2).item
    #expect(Swift.abs(Double(plain) - log(7.0)) < 1e-5)
    let expected: Double = 0.8 * log(7.0) + 0.2 * (log(7.0) - log(8.0) / 3)
    #expect(Swift.abs(Double(smoothed) - expected) < 1e-5)
  }

  @Test("max-pool returns window maxima and propagates NaN")
  func maxPool() {
    let x = Tensor([1, 2, 5, 0, 3, 4, 1, .nan, 0, 0, 9, 9, 0, 7, 9, 1], shape: [1, 1, 4, 4])
    let y = maxPool2D(x, kernel: 2)
    #expect(y.scalars[0] == 4)
    #expect(y.scalars[1].isNaN)
    #expect(y.scalars[2] == 7)
    #expect(y.scalars[3] == 9)
  }

  @Test("fused convolution + max-pool equals the two calls: values and gradients, across chunks")
  func fusedConvolutionPool() {
    var rng = SeededGenerator(seed: 9)
    // 40 samples of 16×16 with 8 output channels: several chunks, pooled ones odd-sized (7×7).
    let x = Tensor.uniform([40, 3, 16, 16], using: &rng).requiringGradient()
    let w = Tensor.normal([8, 3, 3, 3], using: &rng).requiringGradient()
    let b = Tensor.normal([8], using: &rng).requiringGradient()
    let fused = conv2DMaxPool(x, weight: w, bias: b, poolKernel: (2, 2))
    let plain = maxPool2D(conv2D(x, weight: w, bias: b), kernel: 2)
    #expect(fused.shape == [40, 8, 7, 7])
    #expect(fused.scalars == plain.scalars)
    let probe = Tensor.normal(fused.shape, using: &rng)
    let gf = gradients(of: (fused * probe).sum(), wrt: [x, w, b])
    let gp = gradients(of: (plain * probe).sum(), wrt: [x, w, b])
    for (f, p) in zip(gf, gp) { #expect(f.scalars == p.scalars) }
    let strided = conv2DMaxPool(x, weight: w, padding: (1, 1), poolKernel: (3, 3), poolStride: (2, 2), poolPadding: (1, 1))
    #expect(strided.scalars == maxPool2D(conv2D(x, weight: w, stride: 1, padding: 1), kernel: 3, stride: 2, padding: 1).scalars)
  }

  @Test("clamping, masks and reductions")
  func clampingAndReductions() {
    let x = Tensor([-1, 0.5, 2], shape: [3])
    #expect(x.clamped(to: 0...1).scalars == [0, 0.5, 1])
    #expect((x .> 0).values == [false, true, true])
    #expect((!(x .> 0) || (x .== 2)).values == [true, false, true])
    #expect(x.max() == 2 && x.min() == -1)
    let m = Tensor.arange(0, 6).reshaped(to: [2, 3])
    #expect(m.mean(alongAxes: [1]).scalars == [1, 4])
    #expect(m.sum(alongAxes: [0], keepingShape: true).shape == [1, 3])
    #expect(Tensor([.nan, 1], shape: [2]).isNaN.values == [true, false])
    #expect(!Tensor([.infinity, 1], shape: [2]).isFinite)
  }

  @Test("the same seed gives the same bytes; different seeds differ")
  func seededRandomness() {
    var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
    let x = Tensor.normal([1000], using: &a), y = Tensor.normal([1000], using: &b)
    #expect(x.scalars.map(\.bitPattern) == y.scalars.map(\.bitPattern))
    #expect(x.scalars != Tensor.normal([1000], using: &c).scalars)
    let u = Tensor.uniform([10_000], in: 0...1, using: &a)
    #expect(u.min() >= 0 && u.max() < 1)
    let mean = u.mean().item
    #expect(Swift.abs(mean - 0.5) < 0.02)
    let n = Tensor.normal([20_000], mean: 1, standardDeviation: 2, using: &a)
    #expect(Swift.abs(n.mean().item - 1) < 0.05)
    #expect(Swift.abs((n - 1).squared().mean().item.squareRoot() - 2) < 0.05)
  }

  @Test("dropout keeps the expectation and is reproducible under a seed")
  func dropoutExpectation() {
    var r1 = SeededGenerator(seed: 1), r2 = SeededGenerator(seed: 1)
    let x = Tensor.ones([10_000])
    let y = dropout(x, probability: 0.25, using: &r1)
    #expect(y.scalars == dropout(x, probability: 0.25, using: &r2).scalars)
    #expect(Swift.abs(y.mean().item - 1) < 0.05)
    #expect(Set(y.scalars).isSubset(of: [0, Float(1) / 0.75]))
  }

  @Test("conv-transpose is the adjoint of conv in x")
  func convTransposeAdjoint() {
    var rng = SeededGenerator(seed: 6)
    let x = Tensor.normal([2, 3, 9, 8], using: &rng)
    let w = Tensor.normal([4, 3, 3, 3], using: &rng)
    let y = Tensor.normal([2, 4, 5, 4], using: &rng)
    let lhs = (conv2D(x, weight: w, stride: 2, padding: 1) * y).sum().item
    let rhs = (x * convTranspose2D(y, weight: w, stride: (2, 2), padding: (1, 1), outputPadding: (0, 1))).sum().item
    #expect(Swift.abs(lhs - rhs) < 1e-3 * Swift.max(1, Swift.abs(lhs)))
  }
}

@Suite("Max-pool arg-max kernels")
struct MaxPoolKernelTests {
  /// First maximal index per 2×2 window, NaN first, by brute force.
  static func naive(_ x: [Float], n: Int, h: Int, w: Int) -> [Float] {
    var out: [Float] = []
    for p in 0..<n { for oy in 0..<(h / 2) { for ox in 0..<(w / 2) {
      var best: Float = -.infinity, found = false
      var nan = false
      for dy in 0..<2 { for dx in 0..<2 {
        let v = x[p * h * w + (2 * oy + dy) * w + 2 * ox + dx]
        if v.isNaN { nan = true }
        if !found || v > best { best = v; found = true }
      } }
      out.append(nan ? .nan : best)
    } } }
    return out
  }

  @Test("the eight-wide 2×2 path agrees with brute force, with ties and NaN")
  func simdPath() {
    var rng = SeededGenerator(seed: 12)
    var values = Tensor.uniform([3 * 6 * 34], using: &rng).scalars.map { ($0 * 4).rounded() / 4 }
    values[5] = .nan
    values[3 * 34 + 20] = .nan
    let x = Tensor(values, shape: [3, 1, 6, 34]).requiringGradient()
    let y = maxPool2D(x, kernel: 2)
    let expected = Self.naive(values, n: 3, h: 6, w: 34)
    for (a, b) in zip(y.scalars, expected) { #expect(a == b || (a.isNaN && b.isNaN)) }
    // Gradients go to exactly one element per window.
    let g = gradients(of: y.sum(), wrt: [x])[0]
    #expect(g.sum().item == Float(y.elementCount))
  }
}

@Suite("Constant fast paths")
struct FastPathTests {
  @Test("clamping a constant gives the same values as the differentiable composite")
  func clampFastPath() {
    var rng = SeededGenerator(seed: 2)
    let x = Tensor.normal([1000], using: &rng)
    let fast = x.clamped(to: -0.5...0.7)
    let recorded = x.requiringGradient().clamped(to: -0.5...0.7)
    #expect(fast.scalars == recorded.scalars)
    #expect(!fast.requiresGradient && recorded.requiresGradient)
    #expect(Tensor([.nan], shape: [1]).clamped(to: 0...1).scalars[0].isNaN)
    #expect(Tensor([.nan], shape: [1]).requiringGradient().clamped(to: 0...1).scalars[0].isNaN)
  }

  @Test("valueWithGradient, argmin, oneHot and Mask.trueCount do what their docs say")
  func conveniences() {
    let (value, gradient) = valueWithGradient(at: Tensor([1, -2, 3], shape: [3])) { ($0 * $0 * $0).sum() }
    #expect(value.item == 1 - 8 + 27 && !value.requiresGradient)
    #expect(gradient.scalars == [3, 12, 27])
    let m = Tensor([3, 1, 2, 0, 5, 5], shape: [2, 3])
    #expect(m.argmin(alongAxis: 1) == [1, 0])
    #expect(m.argmin(alongAxis: 0) == [1, 0, 0])
    #expect(Tensor.oneHot([2, 0], classes: 3).scalars == [0, 0, 1, 1, 0, 0])
    #expect(Mask([true, false, true, true], shape: [4]).trueCount == 3)
  }
}

@Suite("Max pooling's tie tolerance")
struct MaxPoolTieTests {
  @Test("near-ties go to the first element, real differences to the maximum; τ = 0 is the exact maximum",
        arguments: [(2, MaxPoolTies.stable), (3, MaxPoolTies.stable), (2, MaxPoolTies.exact), (3, MaxPoolTies.exact)])
  func nearTies(_ kernel: Int, _ tolerance: Float) {
    let n = kernel * kernel
    let exact = tolerance == 0
    for (second, winner) in [(Float(1).nextUp, exact ? 1 : 0), (1 + 3e-6, exact ? 1 : 0), (1.001, 1), (1, 0)] {
      var values = [Float](repeating: 0.25, count: n)
      values[0] = 1
      values[1] = second
      let x = Tensor(values, shape: [1, 1, kernel, kernel]).requiringGradient()
      let y = maxPool2D(x, kernel: kernel, tieTolerance: tolerance)
      #expect(y.scalars == [values[winner]], "second \(second)")
      let g = gradients(of: y.sum(), wrt: [x])[0].scalars
      #expect(g.enumerated().allSatisfy { $0.element == ($0.offset == winner ? 1 : 0) }, "second \(second): \(g)")
    }
  }
}

@Suite("conv2DAddingReLU")
struct ConvolutionAddingReLUTests {
  @Test("unrecorded and recorded, the bits of conv2D(…).addingReLU(skip): values, first and second derivatives",
        arguments: [(1, 1, true), (2, 1, false), (1, 0, true)])
  func matchesComposition(stride: Int, padding: Int, bias: Bool) {
    var rng = SeededGenerator(seed: 51)
    let x = Tensor.normal([3, 2, 7, 7], using: &rng), w = Tensor.normal([4, 2, 3, 3], using: &rng) * 0.5
    let b: Tensor? = bias ? Tensor.normal([4], using: &rng) : nil
    let plain = conv2D(x, weight: w, bias: b, stride: (stride, stride), padding: (padding, padding))
    let skip = Tensor.normal(plain.shape, using: &rng)
    let reference = plain.addingReLU(skip)
    let fused = conv2DAddingReLU(x, weight: w, bias: b, adding: skip, stride: (stride, stride), padding: (padding, padding))
    #expect(fused.scalars.map(\.bitPattern) == reference.scalars.map(\.bitPattern))
    #expect(fused.scalars.contains { $0 == 0 } && fused.scalars.contains { $0 > 0 })
    // Recorded through every input, the fused graph and the composition's give the same bits for
    // the output, the first derivatives, and a second derivative through the input gradient
    // (double backprop: ∂‖∂L/∂x‖²/∂W).
    let weights = Tensor.normal(plain.shape, using: &rng)
    func derivatives(fusedOp: Bool) -> [[UInt32]] {
      let (px, pw, ps) = (x.requiringGradient(), w.requiringGradient(), skip.requiringGradient())
      let pb = b?.requiringGradient()
      let y = fusedOp
        ? conv2DAddingReLU(px, weight: pw, bias: pb, adding: ps, stride: (stride, stride), padding: (padding, padding))
        : conv2D(px, weight: pw, bias: pb, stride: (stride, stride), padding: (padding, padding)).addingReLU(ps)
      let loss = (y * weights).sum()
      let first = gradients(of: loss, wrt: [px, pw, ps] + (pb.map { [$0] } ?? []), createGraph: true)
      let gx = first[0]
      let second = gradients(of: (gx * gx).sum(), wrt: [pw])
      return ([y] + first + second).map { $0.scalars.map(\.bitPattern) }
    }
    let viaFused = derivatives(fusedOp: true), viaComposition = derivatives(fusedOp: false)
    #expect(viaFused == viaComposition)
    #expect(viaFused[1].contains { $0 != 0 } && viaFused.last!.contains { $0 != 0 })
  }
}
