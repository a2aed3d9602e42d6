import Foundation
import PixelNN
import PixelTensor

/// Parametric noise injection (He, Rakin & Fan, CVPR 2019, https://arxiv.org/abs/1811.09310):
/// a convolution or linear layer whose weights (PNI-W) or outputs (PNI-A) carry Gaussian noise
/// scaled by a learned factor α, in training and at inference alike:
///
/// - weight: `y = layer_{W + α·η}(x)`, `η ~ N(0, σ_W²)` with `σ_W` the standard deviation of `W`;
/// - activation: `y = layer(x) + α·η`, `η ~ N(0, σ_y²)` with `σ_y` the standard deviation of `y`.
///
/// α is one scalar per layer ("layer-wise"), initialised to 0.25, and one weight draw is shared
/// by the whole batch, as in the authors' code. Unlike their code (which holds σ constant), σ is
/// differentiated through, so every gradient is exactly that of the forward pass for its draw:
/// for output noise σ_y depends on the input, and holding it would hand attacks a gradient of
/// a different function. Trained with plain cross-entropy, α shrinks towards 0; the paper trains
/// it with PGD adversarial training (`train --objective pni --epsilon … --adversarial-weight 0.5`).
/// Weight decay, if set, applies to α as well.
///
/// The wrapped layer keeps its parameter names (`conv1.weight`), and α is `conv1.alpha`, so a
/// plain checkpoint initialises a PNI model (`train --init`).
public final class ParametricNoise: RandomizedLayer {
  /// Where the noise goes.
  public enum Target: String, Codable, Sendable, CaseIterable {
    case weight, activation
  }

  public var mode: Mode = .training
  /// The noisy layer: a ``Conv2D`` or a ``Linear``.
  public let layer: any Layer
  public let target: Target
  /// α, shape `[1]`.
  public let alpha: Parameter
  private var generator: SeededGenerator

  /// Noise on `layer` (a ``Conv2D`` or ``Linear``) scaled by `alpha`, drawn from `seed`.
  public init(_ layer: any Layer, target: Target, alpha: Float = 0.25, seed: UInt64 = 0) {
    precondition(layer is Conv2D || layer is Linear, "parametric noise wraps a convolution or a linear layer")
    precondition(alpha.isFinite, "α must be finite")
    self.layer = layer
    self.target = target
    self.alpha = Parameter(Tensor([alpha], shape: [1]))
    generator = SeededGenerator(seed: seed)
  }

  public var members: [ModuleMember] { layer.members + [.parameter("alpha", alpha)] }

  /// `true`: the noise is part of the model at inference.
  public var drawsInInference: Bool { true }

  public func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }

  /// `α·σ_t·η` with `η ~ N(0, I)` shaped like `t` and `σ_t` its sample standard deviation,
  /// differentiable in α and `t`.
  private func scaledNoise(like t: Tensor) -> Tensor {
    let centered = t - t.mean()
    let variance = centered.squared().sum() * (1 / Float(Swift.max(t.elementCount - 1, 1)))
    // √v as exp(½·log v); 10⁻¹² keeps a constant tensor's gradient finite.
    let deviation = ((variance + 1e-12).log() * 0.5).exp()
    return (alpha.value * deviation) * Tensor.normal(t.shape, standardDeviation: 1, using: &generator)
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    switch (target, layer) {
    case (.activation, _):
      let y = layer(x)
      return y + scaledNoise(like: y)
    case (.weight, let conv as Conv2D):
      let w = conv.weight.value
      return conv2D(x, weight: w + scaledNoise(like: w), bias: conv.bias?.value, stride: conv.stride,
                    padding: (conv.padding, conv.padding), dilation: (conv.dilation, conv.dilation), groups: conv.groups)
    case (.weight, let fc as Linear):
      let w = fc.weight.value
      return linear(x, weight: w + scaledNoise(like: w), bias: fc.bias?.value)
    case (.weight, _):
      preconditionFailure("parametric noise wraps a convolution or a linear layer")
    }
  }
}

extension ParametricNoise {
  /// The layer kinds that can carry parametric noise.
  public static let noisyKinds: Set<String> = ["conv2d", "linear"]

  /// `{"type": "pni", "name": "conv1", "target": "weight", "alpha": 0.25, "layer": {"type": "conv2d", …}}`:
  /// the inner layer is unnamed; its parameters and α live under the wrapper's name.
  public static let specBuilder = LayerBuilder(type: "pni", options: ["target", "alpha", "layer"]) { s, input, context in
    let inner = try context.required(context.option(s, "layer", as: LayerSpec.self), "layer", for: s.type)
    guard noisyKinds.contains(inner.type) else { throw context.invalid("pni wraps a conv2d or a linear layer, got \(inner.type)") }
    guard inner.name == nil else { throw context.invalid("the layer inside pni takes the wrapper's name: drop its own") }
    let name = try context.option(s, "target", as: String.self) ?? Target.weight.rawValue
    guard let target = Target(rawValue: name) else { throw context.invalid("pni target must be weight or activation, got \(name)") }
    let alpha = try context.option(s, "alpha", as: Double.self) ?? 0.25
    guard alpha.isFinite, abs(alpha) <= 100 else { throw context.invalid("pni alpha must lie in -100…100, got \(alpha)") }
    // An unnamed wrapper takes its index as name; its place in the spec keeps the inner layer's
    // registered name unique.
    let (wrapped, out) = try context.sequential([inner], input: input, path: "\(context.path).layer",
                                                prefix: context.prefix + (s.name ?? context.path) + ".")
    let ordinal = context.ordinal(of: s.type)
    return (ParametricNoise(wrapped.layers[0].layer, target: target, alpha: Float(alpha),
                            seed: s.seed ?? context.seed &+ ordinal &* 0x9E37_79B9_7F4A_7C15), out)
  }

  /// `spec` with every conv2d and linear layer (inside residual bodies and shortcuts too)
  /// wrapped in parametric noise on `target`, α starting at `alpha`; layers already wrapped stay
  /// as they are. Parameter names do not change, so the original's weights load into the result.
  public static func inject(into spec: ModelSpec, target: Target, alpha: Float = 0.25) throws -> ModelSpec {
    func wrap(_ layers: [LayerSpec]) throws -> [LayerSpec] {
      try layers.map { layer in
        var layer = layer
        if let body = layer.body { layer.body = try wrap(body) }
        if let shortcut = layer.shortcut { layer.shortcut = try wrap(shortcut) }
        guard noisyKinds.contains(layer.type) else { return layer }
        var noisy = LayerSpec(type: "pni", name: layer.name)
        layer.name = nil
        try noisy.setOption("target", target.rawValue)
        try noisy.setOption("alpha", Double(alpha))
        try noisy.setOption("layer", layer)
        return noisy
      }
    }
    return ModelSpec(input: spec.input, classes: spec.classes, layers: try wrap(spec.layers))
  }
}
