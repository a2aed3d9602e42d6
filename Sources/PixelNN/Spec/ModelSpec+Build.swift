import PixelTensor

extension ModelSpec {
  /// Builds the network, initialised like PyTorch's layers from a generator seeded with `seed`.
  /// Throws ``ModelSpecError`` for unknown layer types, missing fields, shapes that do not fit
  /// (e.g. `linear` on an unflattened input) and duplicate names.
  public func build(seed: UInt64, source: String = "<spec>") throws -> Sequential {
    var rng = SeededGenerator(seed: seed)
    var builder = SpecBuilder(source: source, seed: seed)
    guard !input.isEmpty, input.allSatisfy({ $0 > 0 }) else { throw builder.error("input must be positive extents, got \(input)") }
    guard classes > 0 else { throw builder.error("classes must be positive") }
    let (net, outShape) = try builder.sequential(layers, input: input, path: "layers", using: &rng)
    guard outShape == [classes] else {
      throw builder.error("the last layer gives shape \(outShape) per example, expected [\(classes)] logits")
    }
    return net
  }
}

/// Walks a spec, inferring each layer's input shape (per example, without the batch axis).
struct SpecBuilder {
  let source: String
  let seed: UInt64
  var names: Set<String> = []
  var dropoutCount: UInt64 = 0

  init(source: String, seed: UInt64) {
    self.source = source
    self.seed = seed
  }

  func error(_ reason: String) -> ModelSpecError { .invalid(source: source, reason: reason) }

  mutating func sequential(_ specs: [LayerSpec], input: [Int], path: String, prefix: String = "",
                           using rng: inout SeededGenerator) throws -> (Sequential, [Int]) {
    var shape = input
    var layers: [(name: String, layer: any Layer)] = []
    for (i, spec) in specs.enumerated() {
      let name = spec.name ?? ""
      if !name.isEmpty {
        guard !name.contains("."), names.insert(prefix + name).inserted else {
          throw error("\(path)[\(i)]: layer name '\(name)' is repeated or contains a dot")
        }
      }
      let (layer, out) = try self.layer(spec, input: shape, path: "\(path)[\(i)]", prefix: prefix, using: &rng)
      // Unnamed layers take their index, as in PyTorch's nn.Sequential.
      if name.isEmpty && !(layer.members.isEmpty) {
        guard names.insert(prefix + "\(i)").inserted else { throw error("\(path)[\(i)]: index name clashes") }
      }
      layers.append((name: name, layer: layer))
      shape = out
    }
    return (Sequential(layers), shape)
  }

  mutating func layer(_ s: LayerSpec, input: [Int], path: String, prefix: String,
                      using rng: inout SeededGenerator) throws -> (any Layer, [Int]) {
    func need<T>(_ v: T?, _ field: String) throws -> T {
      guard let v else { throw error("\(path): \(s.type) needs '\(field)'") }
      return v
    }
    func image() throws -> (Int, Int, Int) {
      guard input.count == 3 else { throw error("\(path): \(s.type) needs an image input [C, H, W], got \(input)") }
      return (input[0], input[1], input[2])
    }
    func positive(_ v: Int, _ field: String) throws -> Int {
      guard v > 0 else { throw error("\(path): '\(field)' must be positive, got \(v)") }
      return v
    }
    func window(_ size: Int, _ k: Int, _ st: Int, _ pad: Int, _ dil: Int = 1) throws -> Int {
      let o = (size + 2 * pad - dil * (k - 1) - 1) / st + 1
      guard pad >= 0, size + 2 * pad - dil * (k - 1) - 1 >= 0, o > 0 else {
        throw error("\(path): a \(k)×\(k) window (stride \(st), padding \(pad)) does not fit \(size)")
      }
      return o
    }

    switch s.type {
    case "conv2d":
      let (c, h, w) = try image()
      let out = try positive(need(s.out, "out"), "out"), k = try positive(need(s.kernel, "kernel"), "kernel")
      let st = try positive(s.stride ?? 1, "stride"), pad = s.padding ?? 0, dil = try positive(s.dilation ?? 1, "dilation")
      let groups = try positive(s.groups ?? 1, "groups")
      guard c % groups == 0, out % groups == 0 else { throw error("\(path): channels \(c)→\(out) do not divide by groups \(groups)") }
      let layer = Conv2D(inputChannels: c, outputChannels: out, kernelSize: k, stride: st, padding: pad,
                         dilation: dil, groups: groups, bias: s.bias ?? true, using: &rng)
      return (layer, [out, try window(h, k, st, pad, dil), try window(w, k, st, pad, dil)])
    case "conv_transpose2d":
      let (c, h, w) = try image()
      let out = try positive(need(s.out, "out"), "out"), k = try positive(need(s.kernel, "kernel"), "kernel")
      let st = try positive(s.stride ?? 1, "stride"), pad = s.padding ?? 0, op = s.outputPadding ?? 0
      guard op >= 0, op < st else { throw error("\(path): output_padding must be in 0..<stride") }
      let layer = ConvTranspose2D(inputChannels: c, outputChannels: out, kernelSize: k, stride: st, padding: pad,
                                  outputPadding: op, bias: s.bias ?? true, using: &rng)
      let oh = (h - 1) * st - 2 * pad + k + op, ow = (w - 1) * st - 2 * pad + k + op
      guard oh > 0, ow > 0 else { throw error("\(path): output size \(oh)×\(ow) is empty") }
      return (layer, [out, oh, ow])
    case "linear":
      guard input.count == 1 else {
        throw error("\(path): linear needs a flat input, got \(input); add {\"type\":\"flatten\"} before it")
      }
      let out = try positive(need(s.out, "out"), "out")
      return (Linear(inputFeatures: input[0], outputFeatures: out, bias: s.bias ?? true, using: &rng), [out])
    case "relu": return (ReLU(), input)
    case "leaky_relu": return (LeakyReLU(slope: s.slope ?? 0.01), input)
    case "softplus": return (Softplus(), input)
    case "tanh": return (Tanh(), input)
    case "sigmoid": return (Sigmoid(), input)
    case "maxpool2d", "avgpool2d":
      let (c, h, w) = try image()
      let k = try positive(need(s.kernel, "kernel"), "kernel"), st = try positive(s.stride ?? k, "stride")
      let pad = s.padding ?? 0
      guard pad * 2 <= k else { throw error("\(path): padding must be at most half the kernel") }
      let layer: any Layer = s.type == "maxpool2d" ? MaxPool2D(kernelSize: k, stride: st, padding: pad)
        : AvgPool2D(kernelSize: k, stride: st, padding: pad)
      return (layer, [c, try window(h, k, st, pad), try window(w, k, st, pad)])
    case "global_avgpool":
      let (c, _, _) = try image()
      return (GlobalAvgPool(), [c])
    case "flatten":
      return (Flatten(), [input.reduce(1, *)])
    case "batchnorm2d":
      let (c, _, _) = try image()
      return (BatchNorm(features: c, momentum: s.momentum ?? 0.1, epsilon: s.eps ?? 1e-5), input)
    case "batchnorm1d":
      guard input.count == 1 else { throw error("\(path): batchnorm1d needs a flat input, got \(input)") }
      return (BatchNorm(features: input[0], momentum: s.momentum ?? 0.1, epsilon: s.eps ?? 1e-5), input)
    case "dropout":
      let p = s.p ?? 0.5
      guard p >= 0, p < 1 else { throw error("\(path): dropout p must be in [0, 1)") }
      dropoutCount += 1
      return (Dropout(probability: p, seed: seed &+ dropoutCount &* 0x9E37_79B9), input)
    case "normalize":
      let (c, _, _) = try image()
      let mean = try need(s.mean, "mean"), std = try need(s.std, "std")
      guard mean.count == c, std.count == c else { throw error("\(path): normalize needs \(c) means and stds") }
      guard std.allSatisfy({ $0 > 0 }) else { throw error("\(path): normalize std must be positive") }
      return (Normalize(mean: mean, standardDeviation: std), input)
    case "residual":
      let name = try need(s.name, "name")
      let (body, bodyShape) = try sequential(s.body ?? [], input: input, path: "\(path).body", prefix: prefix + name + ".", using: &rng)
      let (shortcut, shortcutShape) = try sequential(s.shortcut ?? [], input: input, path: "\(path).shortcut",
                                                     prefix: prefix + name + ".", using: &rng)
      guard bodyShape == shortcutShape else {
        throw error("\(path): residual body gives \(bodyShape) but shortcut gives \(shortcutShape)")
      }
      return (Residual(body: body, shortcut: shortcut), bodyShape)
    case "prm":
      let (c, h, w) = try image()
      _ = c
      let designated: DesignatedPixels
      if let bits = s.mask {
        let values = bits.map { $0 == "1" }
        guard bits.count == h * w, bits.allSatisfy({ $0 == "0" || $0 == "1" }), values.contains(true) else {
          throw error("\(path): prm mask must be \(h * w) characters of 0/1 with at least one 1")
        }
        designated = .mask(PixelMask(height: h, width: w, values: values))
      } else {
        let name = s.pattern ?? "v0"
        guard let p = PRMPattern(rawValue: name) else { throw error("\(path): unknown PRM pattern '\(name)'") }
        let shift = s.shift ?? [0, 0]
        guard shift.count == 2 else { throw error("\(path): shift is [dy, dx]") }
        designated = .pattern(p, shift: (shift[0], shift[1]))
      }
      let mix = s.mix ?? 0.5
      guard mix >= 0, mix <= 1 else { throw error("\(path): mix must be in [0, 1]") }
      let layer = PRMLayer(imageShape: input, designated: designated, width: try positive(s.width ?? 16, "width"),
                           depth: s.depth ?? 2, mix: mix, using: &rng)
      return (layer, input)
    case "switch":
      let branchSpecs = try need(s.branches, "branches")
      guard !branchSpecs.isEmpty else { throw error("\(path): switch needs at least one branch") }
      var branches: [Sequential] = []
      var out: [Int]?
      for (b, spec) in branchSpecs.enumerated() {
        let (seq, shape) = try sequential(spec, input: input, path: "\(path).branches[\(b)]",
                                          prefix: prefix + (s.name ?? "") + ".\(b).", using: &rng)
        guard out == nil || out == shape else { throw error("\(path): branches give different output shapes") }
        out = shape
        branches.append(seq)
      }
      let chain = try positive(s.chain ?? 1, "chain")
      if chain > 1, !branches.allSatisfy({ $0.layers.first?.layer is PRMLayer }) {
        throw error("\(path): chain > 1 needs every branch to start with a prm layer")
      }
      return (SwitchingLayer(branches: branches, chain: chain, seed: s.seed ?? seed), out!)
    case "random_resize_pad":
      let (_, h, w) = try image()
      let m = try positive(s.minSize ?? Swift.max(1, Swift.min(h, w) * 7 / 8), "min_size")
      return (RandomResizePad(minimumSize: m, seed: s.seed ?? seed), input)
    default:
      throw error("\(path): unknown layer type '\(s.type)'")
    }
  }
}
