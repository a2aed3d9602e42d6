import Foundation
import Testing
import PixelTensor
@testable import PixelNN

@Suite("Optimizers, schedules and clipping")
struct OptimizerTests {
  func step(_ opt: inout some Optimizer, _ p: Parameter, _ g: [Float]) {
    opt.update([("w", p)], gradients: ["w": Tensor(g, shape: [g.count])])
  }

  @Test("SGD: plain, momentum, Nesterov and weight decay follow PyTorch's rule")
  func sgd() {
    let p = Parameter(Tensor([1, 2], shape: [2]))
    var plain = SGD(learningRate: 0.1)
    step(&plain, p, [1, -1])
    #expect(p.value.scalars == [0.9, 2.1])

    let q = Parameter(Tensor([1], shape: [1]))
    var momentum = SGD(learningRate: 0.1, momentum: 0.9)
    step(&momentum, q, [1])   // b = 1
    step(&momentum, q, [1])   // b = 1.9
    #expect(Swift.abs(q.value.item - (1 - 0.1 - 0.19)) < 1e-6)

    let r = Parameter(Tensor([1], shape: [1]))
    var nesterov = SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)
    step(&nesterov, r, [1])   // b = 1, step g + μb = 1.9
    #expect(Swift.abs(r.value.item - (1 - 0.19)) < 1e-6)

    let s = Parameter(Tensor([2], shape: [1]))
    var decay = SGD(learningRate: 0.1, weightDecay: 0.5)
    step(&decay, s, [0])      // g = 0 + 0.5·2
    #expect(Swift.abs(s.value.item - 1.9) < 1e-6)
  }

  @Test("Adam's first steps match the bias-corrected formula; AdamW decays decoupled")
  func adam() {
    let p = Parameter(Tensor([1, -1], shape: [2]))
    var adam = Adam(learningRate: 0.01)
    step(&adam, p, [0.5, -2])
    // Step 1: m̂ = g, v̂ = g², so θ moves by η·g/(|g| + ε).
    #expect(Swift.abs(p.value.scalars[0] - (1 - 0.01)) < 1e-6)
    #expect(Swift.abs(p.value.scalars[1] - (-1 + 0.01)) < 1e-6)
    step(&adam, p, [0.25, -2])
    let m = 0.9 * 0.1 * 0.5 + 0.1 * 0.25, v = 0.999 * 0.001 * 0.25 + 0.001 * 0.0625
    let expected = (1 - 0.01) - 0.01 * (m / (1 - 0.81)) / ((v / (1 - 0.998001)).squareRoot() + 1e-8)
    #expect(Swift.abs(Double(p.value.scalars[0]) - expected) < 1e-6)

    let q = Parameter(Tensor([2], shape: [1]))
    var adamW = Adam.adamW(learningRate: 0.1, weightDecay: 0.5)
    step(&adamW, q, [0])
    #expect(Swift.abs(q.value.item - 2 * (1 - 0.05)) < 1e-6)
  }

  @Test("Adam on a large tensor (vector lanes, a tail, several workers) follows the scalar formula")
  func adamLarge() {
    let count = 70_001
    var rng = SeededGenerator(seed: 2)
    let start = Tensor.normal([count], using: &rng), g1 = Tensor.normal([count], using: &rng)
    let g2 = Tensor.normal([count], using: &rng)
    let p = Parameter(start)
    var adam = Adam(learningRate: 0.01, weightDecay: 0.1)
    step(&adam, p, g1.scalars)
    step(&adam, p, g2.scalars)
    var worst: Float = 0
    for i in stride(from: 0, to: count, by: 7) {
      var t = start.scalars[i], m: Float = 0, v: Float = 0
      for (s, g) in [g1.scalars[i], g2.scalars[i]].enumerated() {
        let gi = g + t * 0.1
        m = m * 0.9 + gi * 0.1
        v = v * 0.999 + gi * gi * 0.001
        let c1 = 1 - Float(pow(0.9, Double(s + 1))), c2 = 1 - Float(pow(0.999, Double(s + 1)))
        t -= (m / (v.squareRoot() / c2.squareRoot() + 1e-8)) * (0.01 / c1)
      }
      worst = Swift.max(worst, Swift.abs(t - p.value.scalars[i]))
    }
    #expect(worst < 1e-6)
  }

  @Test("optimizer state round-trips: a restored optimizer continues identically")
  func stateRoundTrip() throws {
    let a = Parameter(Tensor([1, 2, 3], shape: [3])), b = Parameter(Tensor([1, 2, 3], shape: [3]))
    var first = Adam(learningRate: 0.05)
    step(&first, a, [1, 2, 3])
    var second = Adam(learningRate: 0.05)
    try second.loadState(first.state)
    b.value = a.value
    step(&first, a, [0.5, 0.5, -1])
    step(&second, b, [0.5, 0.5, -1])
    #expect(a.value.scalars == b.value.scalars)
    var sgd = SGD(learningRate: 0.1, momentum: 0.9)
    #expect(throws: OptimizerStateError.self) { try sgd.loadState(first.state) }
  }

  @Test("learning-rate schedules: warm-up, step decay and cosine end points")
  func schedules() {
    let warm = LearningRateSchedule(.constant, warmupIterations: 4)
    #expect(warm.rate(base: 1, iteration: 0, totalIterations: 100) == 0.25)
    #expect(warm.rate(base: 1, iteration: 10, totalIterations: 100) == 1)
    let step = LearningRateSchedule(.step(every: 10, gamma: 0.1))
    #expect(Swift.abs(step.rate(base: 1, iteration: 25, totalIterations: 100) - 0.01) < 1e-7)
    let cosine = LearningRateSchedule(.cosine(minimum: 0.1))
    #expect(cosine.rate(base: 1, iteration: 0, totalIterations: 100) == 1)
    #expect(Swift.abs(cosine.rate(base: 1, iteration: 50, totalIterations: 100) - 0.55) < 1e-6)
    #expect(Swift.abs(cosine.rate(base: 1, iteration: 100, totalIterations: 100) - 0.1) < 1e-6)
  }

  @Test("gradient-norm clipping rescales to the limit and reports the norm")
  func clipping() {
    var g = ["a": Tensor([3], shape: [1]), "b": Tensor([4], shape: [1])]
    #expect(clipGradientNorm(&g, maxNorm: 1) == 5)
    #expect(Swift.abs(g["a"]!.item - 0.6) < 1e-5 && Swift.abs(g["b"]!.item - 0.8) < 1e-5)
    var small = ["a": Tensor([0.3], shape: [1])]
    clipGradientNorm(&small, maxNorm: 1)
    #expect(small["a"]!.item == 0.3)
  }
}
