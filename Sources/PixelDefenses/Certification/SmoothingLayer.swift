import Foundation
import PixelNN
import PixelTensor

/// Randomized smoothing as a layer around a whole classifier, so that a smoothed model is a
/// checkpoint like any other: `evaluate`, `attack --eot`, `transfer` and the worst-of-R
/// re-classification apply to it unchanged.
///
/// Each call classifies `samples` noisy copies per image — `x + σ·ε` with Gaussian `ε`, or
/// uniform in the cube `[x − σ, x + σ]` clipped to `[0, 1]` (Cao & Gong's region-based
/// classification, ``Noise/uniform``) — and returns per class
/// - **soft**: the mean logit (Nemcovsky et al.'s soft vote), differentiable;
/// - **probability**: `log` of the mean softmax probability, differentiable — its cross-entropy is
///   the loss of EOT-PGD against the smoothed classifier;
/// - **vote** / **weighted**: `log` of the share of votes (or of rank weights `2^−rank`), a
///   constant with no gradient (attacks see zero gradients, and the report says so).
///
/// The noise is drawn from the layer's own generator, reseeded with the model's randomized layers.
/// Memory grows with `batch × samples`: attack smoothed models with small batches.
public final class SmoothingLayer: RandomizedLayer, Classifier {
  public var mode: Mode = .training
  /// The smoothed classifier.
  public let base: Sequential
  /// Noise σ in pixel units.
  public let sigma: Float
  /// Noisy copies per image and call.
  public let samples: Int
  /// The aggregation.
  public let aggregation: RandomizedSmoothing.Mode
  /// The noise distribution; for `uniform`, ``sigma`` is the cube's half-width r.
  public let noise: Noise
  private var generator: SeededGenerator

  /// Where the noisy copies are drawn.
  public enum Noise: String, Sendable, CaseIterable {
    /// `x + σ·ε`, `ε ~ N(0, I)`, unclipped (Cohen et al.; Nemcovsky et al.).
    case gaussian
    /// Uniform in the hypercube `[x − r, x + r]`, clipped to `[0, 1]`: region-based classification
    /// (Cao & Gong 2017, https://arxiv.org/abs/1709.05583; their defaults r = 0.02, 1,000 votes).
    case uniform
  }

  /// Smoothing of `base` with `samples` draws of `noise` at scale σ (or r) per call.
  public init(base: Sequential, sigma: Float, samples: Int, aggregation: RandomizedSmoothing.Mode, noise: Noise = .gaussian,
              seed: UInt64 = 0) {
    precondition(sigma >= 0 && sigma.isFinite && samples >= 1, "smoothing needs σ ≥ 0 and at least one sample")
    self.base = base; self.sigma = sigma; self.samples = samples; self.aggregation = aggregation; self.noise = noise
    generator = SeededGenerator(seed: seed)
  }

  public var members: [ModuleMember] { [.module("", base)] }

  public var drawsInInference: Bool { sigma > 0 }

  public func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }

  /// The aggregated scores, as ``callAsFunction(_:)``: a smoothed classifier for attacks.
  public func logits(_ x: Tensor) -> Tensor { self(x) }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    let n = x.shape[0], m = samples
    // A single draw (the noisy view that EPGD and noise training attack) needs no copies.
    let copies = m == 1 ? x : x.rows(at: (0..<n).flatMap { [Int](repeating: $0, count: m) })
    let noisy: Tensor
    switch noise {
    case _ where sigma == 0: noisy = copies
    case .gaussian: noisy = copies + Tensor.normal(copies.shape, standardDeviation: sigma, using: &generator)
    case .uniform:
      noisy = (copies + Tensor.uniform(copies.shape, in: -sigma...sigma, using: &generator)).clamped(to: 0...1)
    }
    switch aggregation {
    case .soft:
      let z = base(noisy)
      return m == 1 ? z : z.reshaped(to: [n, m, z.shape[1]]).mean(alongAxes: [1])
    case .probability:
      let z = base(noisy)
      // 10⁻³⁰ keeps the log finite where every draw's softmax underflows for a class.
      return (z.softmax(alongAxis: 1).reshaped(to: [n, m, z.shape[1]]).mean(alongAxes: [1]) + 1e-30).log()
    case .vote, .weighted:
      // Counts have no gradient: classify without recording a graph for the n·m copies.
      let z = withoutGradients { base(noisy.detached()) }
      let k = z.shape[1], values = z.scalars
      var out = [Float]()
      out.reserveCapacity(n * k)
      for i in 0..<n {
        var totals = [Double](repeating: 0, count: k)
        for d in 0..<m { RandomizedSmoothing.accumulate(values[((i * m + d) * k)..<((i * m + d + 1) * k)], mode: aggregation, into: &totals) }
        let sum = totals.reduce(0, +)
        out += totals.map { Float(Foundation.log(Swift.max($0 / sum, 1e-6))) }
      }
      return Tensor(out, shape: [n, k])
    }
  }
}

extension SmoothingLayer {
  /// `{"type": "smoothing", "name": "smoothed", "sigma": 0.25, "samples": 32, "mode": "probability", "noise": "gaussian",
  /// "layers": [...]}`: the smoothed classifier's parameters live under the layer's name
  /// (`smoothed.conv1.weight`).
  public static let specBuilder = LayerBuilder(type: "smoothing", options: ["sigma", "samples", "mode", "noise", "layers"]) {
    s, input, context in
    let layers = try context.required(context.option(s, "layers", as: [LayerSpec].self), "layers", for: s.type)
    let sigma = try context.required(context.option(s, "sigma", as: Double.self), "sigma", for: s.type)
    guard sigma.isFinite, sigma >= 0, sigma <= 10 else { throw context.invalid("smoothing needs 0 ≤ sigma ≤ 10, got \(sigma)") }
    let samples = try context.positive(context.option(s, "samples", as: Int.self) ?? 32, "samples")
    guard samples <= 1 << 16 else { throw context.invalid("smoothing takes at most 65536 samples per call, got \(samples)") }
    let name = try context.option(s, "mode", as: String.self) ?? "probability"
    guard let aggregation = RandomizedSmoothing.Mode(rawValue: name) else {
      throw context.invalid("smoothing mode must be vote, soft, weighted or probability")
    }
    let (base, out) = try context.sequential(layers, input: input, path: "\(context.path).layers",
                                             prefix: context.prefix + (s.name ?? "") + ".")
    let kind = try context.option(s, "noise", as: String.self) ?? Noise.gaussian.rawValue
    guard let noise = Noise(rawValue: kind) else { throw context.invalid("smoothing noise must be gaussian or uniform, got \(kind)") }
    return (SmoothingLayer(base: base, sigma: Float(sigma), samples: samples, aggregation: aggregation, noise: noise,
                           seed: s.seed ?? context.seed), out)
  }
}

extension RandomizedSmoothing {
  /// The spec and weights of `classifier` wrapped in a ``SmoothingLayer``: a checkpoint of the
  /// smoothed classifier (`pixelrobust smooth wrap`).
  /// - Parameter noise: Gaussian at σ, or uniform in the cube of half-width σ (region-based classification).
  public static func wrap(_ classifier: Model, sigma: Double, samples: Int, mode: Mode, noise: SmoothingLayer.Noise = .gaussian,
                          seed: UInt64) throws -> (spec: ModelSpec, state: [String: Tensor]) {
    var layer = LayerSpec(type: "smoothing", name: "smoothed")
    try layer.setOption("sigma", sigma)
    if noise != .gaussian { try layer.setOption("noise", noise.rawValue) }
    try layer.setOption("samples", samples)
    try layer.setOption("mode", mode.rawValue)
    try layer.setOption("layers", classifier.spec.layers)
    layer.seed = seed
    let state = Dictionary(uniqueKeysWithValues: classifier.stateTensors.map { ("smoothed." + $0.key, $0.value) })
    return (ModelSpec(input: classifier.spec.input, classes: classifier.spec.classes, layers: [layer]), state)
  }
}
