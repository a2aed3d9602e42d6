import PixelTensor

extension ModelBuilder {
  /// PixelNN's generic layer kinds: convolutions, linear, activations, pooling, flatten, batch
  /// norm, dropout, normalize and residual blocks. Their fields are listed on ``LayerSpec``.
  public static let standard = ModelBuilder([
    conv2D, convTranspose2D, linear,
    activation("relu") { ReLU() }, activation("softplus") { Softplus() }, activation("tanh") { Tanh() },
    activation("sigmoid") { Sigmoid() }, leakyReLU,
    maxPool, pooling("avgpool2d") { s, k, stride, pad, _ in AvgPool2D(kernelSize: k, stride: stride, padding: pad) },
    globalAveragePool, flatten, batchNorm2D, batchNorm1D, dropout, normalize, residual, clip, reshape, pad2D, graph,
  ])

  static let conv2D = LayerBuilder(type: "conv2d") { s, input, context in
    let (c, h, w) = try context.image(input, for: s.type)
    let out = try context.positive(context.required(s.out, "out", for: s.type), "out")
    let k = try context.positive(context.required(s.kernel, "kernel", for: s.type), "kernel")
    let stride = try context.positive(s.stride ?? 1, "stride"), pad = try context.nonNegative(s.padding ?? 0, "padding")
    let dilation = try context.positive(s.dilation ?? 1, "dilation"), groups = try context.positive(s.groups ?? 1, "groups")
    guard c % groups == 0, out % groups == 0 else { throw context.invalid("channels \(c)→\(out) do not divide by groups \(groups)") }
    _ = try context.elementCount([out, c / groups, k, k], of: "the weight")
    let layer = Conv2D(inputChannels: c, outputChannels: out, kernelSize: k, stride: stride, padding: pad,
                       dilation: dilation, groups: groups, bias: s.bias ?? true, using: &context.rng)
    return (layer, [out, try context.windowOutput(size: h, kernel: k, stride: stride, padding: pad, dilation: dilation),
                    try context.windowOutput(size: w, kernel: k, stride: stride, padding: pad, dilation: dilation)])
  }

  static let convTranspose2D = LayerBuilder(type: "conv_transpose2d") { s, input, context in
    let (c, h, w) = try context.image(input, for: s.type)
    let out = try context.positive(context.required(s.out, "out", for: s.type), "out")
    let k = try context.positive(context.required(s.kernel, "kernel", for: s.type), "kernel")
    let stride = try context.positive(s.stride ?? 1, "stride"), pad = try context.nonNegative(s.padding ?? 0, "padding")
    let extra = try context.nonNegative(s.outputPadding ?? 0, "output_padding")
    guard extra < stride else { throw context.invalid("output_padding must be in 0..<stride") }
    _ = try context.elementCount([c, out, k, k], of: "the weight")
    let oh = (h - 1) * stride - 2 * pad + k + extra, ow = (w - 1) * stride - 2 * pad + k + extra
    guard oh > 0, ow > 0 else {
      throw context.invalid("a \(k)×\(k) transposed window (stride \(stride), padding \(pad)) gives an empty \(oh)×\(ow) output")
    }
    let layer = ConvTranspose2D(inputChannels: c, outputChannels: out, kernelSize: k, stride: stride, padding: pad,
                                outputPadding: extra, bias: s.bias ?? true, using: &context.rng)
    return (layer, [out, oh, ow])
  }

  static let linear = LayerBuilder(type: "linear") { s, input, context in
    guard input.count == 1 else {
      throw context.invalid("linear needs a flat input, got \(input); add {\"type\":\"flatten\"} before it")
    }
    let out = try context.positive(context.required(s.out, "out", for: s.type), "out")
    _ = try context.elementCount([out, input[0]], of: "the weight")
    return (Linear(inputFeatures: input[0], outputFeatures: out, bias: s.bias ?? true, using: &context.rng), [out])
  }

  static func activation(_ type: String, _ make: @escaping @Sendable () -> any Layer) -> LayerBuilder {
    LayerBuilder(type: type) { _, input, _ in (make(), input) }
  }

  static let clip = LayerBuilder(type: "clip", options: ["min", "max"]) { s, input, context in
    let lower = try context.option(s, "min", as: Float.self) ?? -.infinity
    let upper = try context.option(s, "max", as: Float.self) ?? .infinity
    guard !lower.isNaN, !upper.isNaN, lower <= upper, lower < .infinity, upper > -.infinity else {
      throw context.invalid("clip needs min ≤ max (not NaN), got \(lower), \(upper)")
    }
    return (Clip(range: lower...upper), input)
  }

  /// `pad2d` with option `pads` = `[top, bottom, left, right]`: zero rows and columns around each image.
  static let pad2D = LayerBuilder(type: "pad2d", options: ["pads"]) { s, input, context in
    let (c, h, w) = try context.image(input, for: s.type)
    let pads = try context.required(context.option(s, "pads", as: [Int].self), "pads", for: s.type)
    guard pads.count == 4, pads.allSatisfy({ (0...LayerBuildContext.maximumExtent).contains($0) }) else {
      throw context.invalid("pad2d needs pads [top, bottom, left, right], each in 0...\(LayerBuildContext.maximumExtent), got \(pads)")
    }
    let (oh, ow) = (h + pads[0] + pads[1], w + pads[2] + pads[3])
    guard oh <= LayerBuildContext.maximumExtent, ow <= LayerBuildContext.maximumExtent else {
      throw context.invalid("pad2d makes a \(oh)×\(ow) image, beyond \(LayerBuildContext.maximumExtent)")
    }
    _ = try context.elementCount([c, oh, ow], of: "the padded image")
    return (Pad2D(top: pads[0], bottom: pads[1], left: pads[2], right: pads[3]), [c, oh, ow])
  }

  static let reshape = LayerBuilder(type: "reshape", options: ["shape"]) { s, input, context in
    let target = try context.required(context.option(s, "shape", as: [Int].self), "shape", for: s.type)
    let count = try context.elementCount(input, of: "the input")
    guard (1...4).contains(target.count), target.filter({ $0 == -1 }).count <= 1,
          target.allSatisfy({ $0 == -1 || (1...LayerBuildContext.maximumExtent).contains($0) }) else {
      throw context.invalid("reshape needs 1 to 4 extents in 1...\(LayerBuildContext.maximumExtent), at most one -1, got \(target)")
    }
    let known = try context.elementCount(target.filter { $0 != -1 }, of: "the shape")
    guard count % known == 0, target.contains(-1) || known == count else {
      throw context.invalid("cannot reshape \(input) (\(count) elements) to \(target)")
    }
    let shape = target.map { $0 == -1 ? count / known : $0 }
    return (Reshape(shape: shape), shape)
  }

  static let leakyReLU = LayerBuilder(type: "leaky_relu") { s, input, context in
    let slope = s.slope ?? 0.01
    guard slope.isFinite else { throw context.invalid("leaky_relu slope must be finite") }
    return (LeakyReLU(slope: slope), input)
  }

  static func pooling(_ type: String, options: Set<String> = [],
                      _ make: @escaping @Sendable (LayerSpec, Int, Int, Int, LayerBuildContext) throws -> any Layer) -> LayerBuilder {
    LayerBuilder(type: type, options: options) { s, input, context in
      let (c, h, w) = try context.image(input, for: s.type)
      let k = try context.positive(context.required(s.kernel, "kernel", for: s.type), "kernel")
      let stride = try context.positive(s.stride ?? k, "stride"), pad = try context.nonNegative(s.padding ?? 0, "padding")
      guard pad * 2 <= k else { throw context.invalid("padding must be at most half the kernel") }
      return (try make(s, k, stride, pad, context), [c, try context.windowOutput(size: h, kernel: k, stride: stride, padding: pad),
                                                     try context.windowOutput(size: w, kernel: k, stride: stride, padding: pad)])
    }
  }

  /// `maxpool2d` with option `tie_tolerance` (τ in [0, 2⁻¹⁰], default 2⁻¹⁷; 0 is the exact first maximum).
  static let maxPool = pooling("maxpool2d", options: ["tie_tolerance"]) { s, k, stride, pad, context in
    let tolerance = try context.option(s, "tie_tolerance", as: Float.self) ?? MaxPoolTies.exact
    guard (0...MaxPoolTies.maximum).contains(tolerance) else {
      throw context.invalid("tie_tolerance must be in [0, \(MaxPoolTies.maximum)], got \(tolerance)")
    }
    return MaxPool2D(kernelSize: k, stride: stride, padding: pad, tieTolerance: tolerance)
  }

  static let globalAveragePool = LayerBuilder(type: "global_avgpool") { s, input, context in
    let (c, _, _) = try context.image(input, for: s.type)
    return (GlobalAvgPool(), [c])
  }

  static let flatten = LayerBuilder(type: "flatten") { _, input, context in
    (Flatten(), [try context.elementCount(input, of: "the input")])
  }

  static let batchNorm2D = LayerBuilder(type: "batchnorm2d") { s, input, context in
    let (c, _, _) = try context.image(input, for: s.type)
    return (try batchNorm(s, features: c, context), input)
  }

  static let batchNorm1D = LayerBuilder(type: "batchnorm1d") { s, input, context in
    guard input.count == 1 else { throw context.invalid("batchnorm1d needs a flat input, got \(input)") }
    return (try batchNorm(s, features: input[0], context), input)
  }

  static func batchNorm(_ s: LayerSpec, features: Int, _ context: LayerBuildContext) throws -> BatchNorm {
    let momentum = s.momentum ?? 0.1, eps = s.eps ?? 1e-5
    guard momentum >= 0, momentum <= 1 else { throw context.invalid("\(s.type) momentum must be in [0, 1]") }
    guard eps > 0, eps.isFinite else { throw context.invalid("\(s.type) eps must be positive and finite") }
    return BatchNorm(features: features, momentum: momentum, epsilon: eps)
  }

  static let dropout = LayerBuilder(type: "dropout") { s, input, context in
    let p = s.p ?? 0.5
    guard p >= 0, p < 1 else { throw context.invalid("dropout p must be in [0, 1)") }
    let n = context.ordinal(of: s.type)
    return (Dropout(probability: p, seed: context.seed &+ n &* 0x9E37_79B9), input)
  }

  static let normalize = LayerBuilder(type: "normalize") { s, input, context in
    let (c, _, _) = try context.image(input, for: s.type)
    let mean = try context.required(s.mean, "mean", for: s.type), std = try context.required(s.std, "std", for: s.type)
    guard mean.count == c, std.count == c else { throw context.invalid("normalize needs \(c) means and stds") }
    guard mean.allSatisfy(\.isFinite), std.allSatisfy({ $0 > 0 && $0.isFinite }) else {
      throw context.invalid("normalize means must be finite and stds positive and finite")
    }
    return (Normalize(mean: mean, standardDeviation: std), input)
  }

  static let residual = LayerBuilder(type: "residual") { s, input, context in
    let name = try context.required(s.name, "name", for: s.type)
    let path = context.path
    let (body, bodyShape) = try context.sequential(s.body ?? [], input: input, path: "\(path).body",
                                                   prefix: context.prefix + name + ".")
    let (shortcut, shortcutShape) = try context.sequential(s.shortcut ?? [], input: input, path: "\(path).shortcut",
                                                           prefix: context.prefix + name + ".")
    guard bodyShape == shortcutShape else {
      throw context.invalid("residual body gives \(bodyShape) but shortcut gives \(shortcutShape)")
    }
    return (Residual(body: body, shortcut: shortcut), bodyShape)
  }
}
