import Foundation
import Testing
import PixelNN
import PixelTensor
@testable import PixelDefenses
import _TestSupport

@Suite("Randomized smoothing: closed forms, abstention, seeds, masked noise")
struct RandomizedSmoothingTests {
  /// A two-class linear model on 1×1×4 inputs: z₁ − z₀ = w·x + b.
  static func linear(w: [Float], b: Float) throws -> Model {
    let spec = ModelSpec(input: [1, 1, 4], classes: 2, layers: [LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    let model = try Model(spec: spec, seed: 0)
    try model.loadState(["fc.weight": Tensor([Float](repeating: 0, count: 4) + w, shape: [2, 4]), "fc.bias": Tensor([0, b], shape: [2])],
                        source: "hand")
    model.setMode(.inference)
    return model
  }

  @Test("on a linear model the certified radius is a lower bound close to the distance to the boundary",
        arguments: [Float(0.25), 0.5])
  func linearClosedForm(_ sigma: Float) throws {
    let w: [Float] = [1, -2, 0.5, 1], b: Float = -0.2
    let model = try Self.linear(w: w, b: b)
    let x = Tensor([0.6, 0.1, 0.4, 0.3], shape: [1, 1, 1, 4])
    let norm = Double(w.reduce(0) { $0 + $1 * $1 }.squareRoot())
    let margin = Double(zip(w, x.scalars).reduce(0) { $0 + $1.0 * $1.1 } + b)
    // Under N(0, σ²I) the smoothed classifier predicts class 1 with probability Φ(margin / (σ‖w‖)),
    // so its exact certified radius is σ·Φ⁻¹(p) = margin / ‖w‖, the distance to the hyperplane.
    let exact = margin / norm
    var streams = [SeededGenerator(seed: 1)]
    let smoothing = RandomizedSmoothing(base: model, sigma: sigma, sampleBatch: 4096)
    let c = smoothing.certify(x, selectionSamples: 100, estimationSamples: 20_000, alpha: 0.001, streams: &streams)[0]
    #expect(c.label == 1)
    let p = StandardNormal.cdf(margin / (Double(sigma) * norm))
    #expect(c.pLower <= p)
    let radius = try #require(c.radius)
    #expect(radius <= exact + 0.01 && radius >= exact - 0.05 * Double(sigma) * 2, "radius \(radius), exact \(exact)")
  }

  @Test("a point on the decision boundary makes predict and certify abstain")
  func abstainsOnATie() throws {
    let model = try Self.linear(w: [1, 0, 0, 0], b: -0.5)
    let x = Tensor([0.5, 0, 0, 0], shape: [1, 1, 1, 4])
    var streams = [SeededGenerator(seed: 2)]
    let smoothing = RandomizedSmoothing(base: model, sigma: 0.25)
    #expect(smoothing.predict(x, samples: 1000, alpha: 0.001, streams: &streams) == [nil])
    // α = 1 is the plain majority vote: it never abstains.
    #expect(smoothing.predict(x, samples: 1000, alpha: 1, streams: &streams).allSatisfy { $0 != nil })
    let c = smoothing.certify(x, selectionSamples: 100, estimationSamples: 1000, alpha: 0.001, streams: &streams)[0]
    #expect(c.label == nil && c.radius == nil && c.pLower < 0.5)
  }

  @Test("the same seed gives the same scores, another seed other scores, whatever the sample batch and the batch's other examples",
        arguments: RandomizedSmoothing.Mode.allCases)
  func seeded(_ mode: RandomizedSmoothing.Mode) throws {
    let model = try Self.linear(w: [1, -1, 0.5, 0.2], b: 0)
    var g = SeededGenerator(seed: 9)
    let x = Tensor.uniform([3, 1, 1, 4], using: &g)
    func run(_ batch: Int, _ seed: UInt64, rows: [Int] = [0, 1, 2]) -> [[Double]] {
      var streams = rows.map { SeededGenerator(seed: seed, stream: $0) }
      return RandomizedSmoothing(base: model, sigma: 0.5, mode: mode, sampleBatch: batch).scores(x.rows(at: rows), draws: 64, streams: &streams)
    }
    #expect(run(1024, 4) == run(1024, 4))
    #expect(run(1024, 4) != run(1024, 5))
    // Per-example streams: another chunking of the draws, or the example alone, gives its scores.
    #expect(run(1024, 4) == run(7, 4))
    #expect(run(1024, 4)[2] == run(5, 4, rows: [2])[0])
    if mode == .vote { #expect(run(1024, 4).allSatisfy { $0.reduce(0, +) == 64 }) }
  }

  @Test("masked noise leaves pixels off the mask bit-identical")
  func maskedNoise() throws {
    let model = try Self.linear(w: [1, 1, 1, 1], b: 0)
    var g = SeededGenerator(seed: 3)
    let x = Tensor.uniform([2, 1, 1, 4], using: &g)
    let mask = Tensor([1, 0, 0, 1], shape: [1, 1, 1, 4])
    let smoothing = RandomizedSmoothing(base: model, sigma: 1, mask: mask)
    var streams = RandomizedSmoothing.streams(2, from: &g)
    let noisy = smoothing.noisy(x, rows: [0, 1], streams: &streams)
    for (i, (a, b)) in zip(noisy.scalars, x.scalars).enumerated() {
      if i % 4 == 1 || i % 4 == 2 { #expect(a.bitPattern == b.bitPattern) } else { #expect(a != b) }
    }
  }
}

@Suite("The smoothing layer: aggregation, gradients, checkpoints")
struct SmoothingLayerTests {
  static func smoothed(_ mode: RandomizedSmoothing.Mode, samples: Int = 16) throws -> (Model, Model) {
    let spec = ModelSpec(input: [1, 4, 4], classes: 3, layers: [
      LayerSpec(type: "conv2d", name: "conv", out: 2, kernel: 3, padding: 1), LayerSpec(type: "softplus"),
      LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 3)])
    let base = try Model(spec: spec, seed: 5)
    let (wrapped, state) = try RandomizedSmoothing.wrap(base, sigma: 0.3, samples: samples, mode: mode, seed: 11)
    let model = try Model(spec: wrapped, seed: 0, builder: .withDefenses)
    try model.loadState(state, source: "base")
    base.setMode(.inference)
    model.setMode(.inference)
    return (base, model)
  }

  @Test("soft mode is the mean of the base's logits over the layer's noise draws")
  func softIsTheMeanLogit() throws {
    let (base, model) = try Self.smoothed(.soft, samples: 8)
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform([2, 1, 4, 4], using: &g)
    model.reseedRandomizedLayers(3)
    let ours = withoutGradients { model.logits(x) }.scalars
    // The same draws, by hand: the layer draws one normal tensor for the 2 × 8 copies, from the
    // model's seed plus its position in the module walk (the network is 1, the layer 2).
    var noise = SeededGenerator(seed: 3 + 2)
    let copies = x.rows(at: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1])
    let z = withoutGradients { base.logits(copies + Tensor.normal(copies.shape, standardDeviation: 0.3, using: &noise)) }.scalars
    for i in 0..<2 {
      for k in 0..<3 {
        let mean = (0..<8).reduce(Float(0)) { $0 + z[(i * 8 + $1) * 3 + k] } / 8
        #expect(Swift.abs(ours[i * 3 + k] - mean) < 1e-5)
      }
    }
    #expect(model.isRandomized)
  }

  @Test("probability and soft modes are differentiable: input gradients match central differences at fixed noise",
        arguments: [RandomizedSmoothing.Mode.probability, .soft])
  func gradients(_ mode: RandomizedSmoothing.Mode) throws {
    let (_, model) = try Self.smoothed(mode)
    var g = SeededGenerator(seed: 2)
    let x = Tensor.uniform([2, 1, 4, 4], using: &g), v = Tensor.normal(x.shape, using: &g)
    func loss(_ t: Tensor) -> Tensor {
      model.reseedRandomizedLayers(7)
      return crossEntropy(logits: model.logits(t), labels: [0, 2], reduction: .sum)
    }
    let (_, grad) = valueWithGradient(at: x, of: loss)
    let h: Float = 1e-2
    let numeric = (Double(withoutGradients { loss(x + v * h) }.item) - Double(withoutGradients { loss(x - v * h) }.item)) / Double(2 * h)
    let analytic = zip(grad.scalars, v.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    #expect(Swift.abs(numeric - analytic) <= 2e-2 * Swift.max(Swift.abs(analytic), 1e-2), "\(numeric) vs \(analytic)")
  }

  @Test("a wrapped checkpoint reloads to the same spec and the same seeded logits; vote mode gives no gradient")
  func checkpoint() throws {
    let (_, model) = try Self.smoothed(.vote)
    let url = temporaryPath("smooth", suffix: ".safetensors")
    try Checkpoint.save(model, to: url)
    let (loaded, _) = try Checkpoint.load(from: url, builder: .withDefenses)
    loaded.setMode(.inference)
    #expect(loaded.spec == model.spec)
    var g = SeededGenerator(seed: 4)
    let x = Tensor.uniform([3, 1, 4, 4], using: &g)
    model.reseedRandomizedLayers(1)
    loaded.reseedRandomizedLayers(1)
    #expect(withoutGradients { model.logits(x) }.scalars == withoutGradients { loaded.logits(x) }.scalars)
    let (_, grad) = valueWithGradient(at: x) { crossEntropy(logits: loaded.logits($0), labels: [0, 1, 2]) }
    #expect(grad.scalars.allSatisfy { $0 == 0 })
  }

  @Test("region-based classification: the vote share over the clipped cube matches the closed form on a linear model")
  func regionVote() throws {
    // z₁ − z₀ = 2·x₀ − 1 on a single pixel: class 1 wins where the perturbed pixel exceeds ½.
    let base = try RandomizedSmoothingTests.linear(w: [2, 0, 0, 0], b: -1)
    let (spec, state) = try RandomizedSmoothing.wrap(base, sigma: 0.2, samples: 20_000, mode: .vote, noise: .uniform, seed: 3)
    let model = try Model(spec: spec, seed: 0, builder: .withDefenses)
    try model.loadState(state, source: "base")
    model.setMode(.inference)
    for (pixel, expected) in [(Float(0.45), 0.375), (0.55, 0.625), (0.9, 1.0), (0.05, 0.0)] {
      let x = Tensor([pixel, 0.3, 0.6, 0.1], shape: [1, 1, 1, 4])
      // Uniform in [x − 0.2, x + 0.2], clipped to [0, 1]: P(x' > ½) = (x + 0.2 − ½) / 0.4, within [0, 1].
      let share = Foundation.exp(Double(withoutGradients { model.logits(x) }.scalars[1]))
      #expect(Swift.abs(share - expected) < 0.015, "pixel \(pixel): vote share \(share), exact \(expected)")
    }
    let layer = try #require(model.network.layers[0].layer as? SmoothingLayer)
    #expect(layer.noise == .uniform && layer.aggregation == .vote)
  }
}
