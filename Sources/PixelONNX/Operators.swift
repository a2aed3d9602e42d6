import Foundation
import PixelNN
import PixelTensor

/// The per-operator rules: each ONNX node becomes zero or more graph nodes, checked against the
/// shapes known so far. ONNX defaults apply to absent attributes; every attribute value the
/// engine cannot honour exactly is refused rather than approximated.
extension GraphTranslation {
  static let activations: [String: String] = ["Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softplus": "softplus"]

  /// Operators that are not translated, with what to do instead.
  static let alternatives: [String: String] = [
    "Gelu": "supported activations are Relu, LeakyRelu, Sigmoid, Tanh, Softplus and Clip",
    "Elu": "supported activations are Relu, LeakyRelu, Sigmoid, Tanh, Softplus and Clip",
    "Selu": "supported activations are Relu, LeakyRelu, Sigmoid, Tanh, Softplus and Clip",
    "HardSwish": "supported activations are Relu, LeakyRelu, Sigmoid, Tanh, Softplus and Clip",
    "HardSigmoid": "supported activations are Relu, LeakyRelu, Sigmoid, Tanh, Softplus and Clip",
    "Resize": "upsampling is supported as ConvTranspose",
    "Upsample": "upsampling is supported as ConvTranspose",
    "Squeeze": "Reshape or Flatten with a constant shape",
    "Unsqueeze": "Reshape or Flatten with a constant shape",
    "Shape": "export with constant folding (do_constant_folding=True, the default) so shapes are constants",
    "Gather": "export with constant folding (do_constant_folding=True, the default) so shapes are constants",
    "LogSoftmax": "only a final Softmax or LogSoftmax is accepted (and removed)",
    "Softmax": "only a final Softmax or LogSoftmax is accepted (and removed)",
    "InstanceNormalization": "BatchNormalization",
    "LayerNormalization": "BatchNormalization",
    "Einsum": "Gemm or MatMul with a constant weight",
  ]

  static let supported = ["Conv", "ConvTranspose", "Gemm", "MatMul", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Softplus",
                          "Clip", "MaxPool", "AveragePool", "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Add",
                          "Sub", "Mul", "Div", "Concat", "BatchNormalization", "Dropout", "Identity", "Constant", "Transpose",
                          "Softmax", "LogSoftmax", "Pad"]

  mutating func translate(_ node: Onnx_NodeProto, label: String) throws {
    let a = NodeAttributes(node, label: label, file: file)
    guard node.domain.isEmpty || node.domain == "ai.onnx" else {
      throw a.unsupported("operators of domain '\(node.domain)' are not supported (only the standard domain)")
    }
    guard let first = node.output.first, !first.isEmpty else { throw a.malformed("the node has no output") }
    // Graph values are named "v:<ONNX name>", so no ONNX name can clash with the values the
    // translation adds itself (the input scaling, a pooled value before its reshape).
    let output = "v:" + first
    func define(_ v: Value) throws {
      values[first] = v
      if node.output.dropFirst().contains(where: { !$0.isEmpty && usedLater($0) }) {
        throw a.unsupported("only the first output of \(node.opType) is supported, and a later node reads another")
      }
    }
    switch node.opType {
    case "Conv": try define(convolution(a, output: output))
    case "ConvTranspose": try define(transposedConvolution(a, output: output))
    case "Gemm", "MatMul": try define(linear(a, output: output))
    case let op where Self.activations[op] != nil:
      try a.requireOnly([])
      let (x, shape) = try tensor(a, 0)
      try define(emit(LayerSpec(type: Self.activations[op]!), on: x, output: output, shape: shape))
    case "LeakyRelu":
      try a.requireOnly(["alpha"])
      let (x, shape) = try tensor(a, 0)
      try define(emit(LayerSpec(type: "leaky_relu", slope: try a.float("alpha", default: 0.01)), on: x, output: output, shape: shape))
    case "Clip": try define(clip(a, output: output))
    case "Pad": try define(pad(a, output: output))
    case "MaxPool", "AveragePool": try define(pooling(a, output: output))
    case "GlobalAveragePool":
      try a.requireOnly([])
      try define(globalAverage(a, keepDimensions: true, output: output))
    case "ReduceMean": try define(reduceMean(a, output: output))
    case "Flatten": try define(flatten(a, output: output))
    case "Reshape": try define(reshape(a, output: output))
    case "Add", "Sub", "Mul", "Div":
      try a.requireOnly([])
      let op = ["Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"][node.opType]!
      guard node.input.count == 2 else { throw a.malformed("\(node.opType) takes two inputs") }
      let result = try binary(op, value(a, 0), value(a, 1), output: output, node: a)
      noteNormalization(op, a, result)
      try define(result)
    case "Concat": try define(concatenation(a, output: output))
    case "BatchNormalization": try define(batchNorm(a, output: output))
    case "Dropout": try define(dropout(a, output: output))
    case "Identity":
      try define(value(a, 0))
    case "Constant": try define(.constant(constant(a)))
    case "Softmax", "LogSoftmax":
      guard first == outputName else {
        throw a.unsupported("a \(node.opType) inside the network is not supported; \(Self.alternatives[node.opType]!)")
      }
      let (x, shape) = try tensor(a, 0)
      guard shape.count == 1 else { throw a.unsupported("the final \(node.opType) must act on logits [N, K]") }
      report.notes.append("removed the final \(node.opType) (\(label)): attacks and losses need logits")
      try define(.tensor(x, shape))
    case "Transpose": try define(transpose(a))
    default:
      let hint = Self.alternatives[node.opType] ?? "the nearest supported operator is \(Self.nearest(node.opType))"
      throw a.unsupported("operator \(node.opType) is not supported; \(hint)")
    }
  }

  /// Whether any node reads value `name`, or it is the graph output.
  func usedLater(_ name: String) -> Bool {
    name == outputName || graph.node.contains { $0.input.contains(name) }
  }

  static func nearest(_ op: String) -> String {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
      var row = Array(0...b.count)
      for (i, x) in a.enumerated() {
        var next = [i + 1]
        for (j, y) in b.enumerated() { next.append(Swift.min(row[j] + (x == y ? 0 : 1), row[j + 1] + 1, next[j] + 1)) }
        row = next
      }
      return row[b.count]
    }
    let lower = Array(op.lowercased())
    return supported.min { distance(lower, Array($0.lowercased())) < distance(lower, Array($1.lowercased())) }!
  }

  // MARK: Inputs

  func value(_ a: NodeAttributes, _ i: Int) throws -> Value {
    guard i < a.node.input.count, !a.node.input[i].isEmpty else { throw a.malformed("input \(i) is missing") }
    guard let v = values[a.node.input[i]] else {
      throw a.malformed("value '\(a.node.input[i])' is used before it is defined")
    }
    return v
  }

  func optionalValue(_ a: NodeAttributes, _ i: Int) throws -> Value? {
    guard i < a.node.input.count, !a.node.input[i].isEmpty else { return nil }
    return try value(a, i)
  }

  func tensor(_ a: NodeAttributes, _ i: Int) throws -> (String, [Int]) {
    guard case let .tensor(name, shape) = try value(a, i) else {
      throw a.unsupported("input \(i) is a constant; the engine runs \(a.node.opType) on values computed from the image only")
    }
    return (name, shape)
  }

  func constantInput(_ a: NodeAttributes, _ i: Int) throws -> ConstantTensor {
    guard case let .constant(c) = try value(a, i) else {
      throw a.unsupported("input \(i) ('\(a.node.input[i])') must be a constant (an initializer), not computed from the image")
    }
    return c
  }

  func optionalConstant(_ a: NodeAttributes, _ i: Int) throws -> ConstantTensor? {
    guard try optionalValue(a, i) != nil else { return nil }
    return try constantInput(a, i)
  }

  // MARK: Windows

  /// Square kernel, stride, symmetric padding and dilation of a 2-D window attribute set.
  func window(_ a: NodeAttributes, kernel: [Int], input: [Int]) throws -> (kernel: Int, stride: Int, padding: Int, dilation: Int) {
    guard kernel.count == 2, kernel[0] == kernel[1], kernel[0] > 0 else {
      throw a.unsupported("kernel \(kernel) is not a square 2-D window (the engine's windows are square)")
    }
    let strides = try a.ints("strides") ?? [1, 1], dilations = try a.ints("dilations") ?? [1, 1]
    var pads = try a.ints("pads") ?? [0, 0, 0, 0]
    guard strides.count == 2, strides[0] == strides[1], strides[0] > 0 else { throw a.unsupported("strides \(strides) must be equal and positive") }
    guard dilations.count == 2, dilations[0] == dilations[1], dilations[0] > 0 else {
      throw a.unsupported("dilations \(dilations) must be equal and positive")
    }
    let k = kernel[0], s = strides[0], d = dilations[0]
    switch try a.string("auto_pad", default: "NOTSET") {
    case "NOTSET": break
    case "VALID": pads = [0, 0, 0, 0]
    case "SAME_UPPER", "SAME_LOWER":
      guard s == 1, (d * (k - 1)) % 2 == 0 else { throw a.unsupported("auto_pad SAME with stride \(s) and kernel \(k) pads asymmetrically") }
      pads = [Int](repeating: d * (k - 1) / 2, count: 4)
    case let other: throw a.unsupported("auto_pad \(other) is not supported")
    }
    guard pads.count == 4, Set(pads).count == 1, pads[0] >= 0 else {
      throw a.unsupported("pads \(pads) are not symmetric (the engine pads every side alike)")
    }
    guard input.count == 3 else { throw a.malformed("a 2-D window needs an image [C, H, W], got \(input)") }
    for extent in input[1...] where extent + 2 * pads[0] < d * (k - 1) + 1 {
      throw a.malformed("a \(k)×\(k) window does not fit the \(input[1])×\(input[2]) input")
    }
    return (k, s, pads[0], d)
  }

  func windowOutput(_ size: Int, _ w: (kernel: Int, stride: Int, padding: Int, dilation: Int)) -> Int {
    (size + 2 * w.padding - w.dilation * (w.kernel - 1) - 1) / w.stride + 1
  }

  // MARK: Operators

  mutating func convolution(_ a: NodeAttributes, output: String) throws -> Value {
    try a.requireOnly(["kernel_shape", "strides", "pads", "dilations", "group", "auto_pad"])
    let (x, shape) = try tensor(a, 0)
    let w = try constantInput(a, 1), b = try optionalConstant(a, 2)
    guard w.dims.count == 4 else { throw a.unsupported("only 2-D convolutions are supported (weight \(w.dims))") }
    let groups = try a.int("group", default: 1)
    guard shape.count == 3, groups > 0, shape[0] == w.dims[1] * groups, w.dims[0] % groups == 0 else {
      throw a.malformed("weight \(w.dims) with \(groups) groups does not fit the input \(shape)")
    }
    if let kernel = try a.ints("kernel_shape"), kernel != Array(w.dims[2...]) {
      throw a.malformed("kernel_shape \(kernel) disagrees with the weight \(w.dims)")
    }
    if let b, b.dims != [w.dims[0]] { throw a.malformed("bias \(b.dims) does not fit \(w.dims[0]) output channels") }
    let win = try window(a, kernel: Array(w.dims[2...]), input: shape)
    let name = memberName(layerHint(a, weight: 1))
    let layer = LayerSpec(type: "conv2d", name: name, out: w.dims[0], kernel: win.kernel, stride: win.stride, padding: win.padding,
                          dilation: win.dilation, groups: groups, bias: b != nil)
    var weights = ["weight": w.tensor]
    if let b { weights["bias"] = b.tensor }
    return emit(layer, on: x, output: output, shape: [w.dims[0], windowOutput(shape[1], win), windowOutput(shape[2], win)],
                weights: weights)
  }

  mutating func transposedConvolution(_ a: NodeAttributes, output: String) throws -> Value {
    try a.requireOnly(["kernel_shape", "strides", "pads", "dilations", "group", "output_padding", "auto_pad"])
    let (x, shape) = try tensor(a, 0)
    let w = try constantInput(a, 1), b = try optionalConstant(a, 2)
    guard try a.int("group", default: 1) == 1 else { throw a.unsupported("grouped transposed convolutions are not supported") }
    guard w.dims.count == 4, shape.count == 3, shape[0] == w.dims[0] else { throw a.malformed("weight \(w.dims) does not fit the input \(shape)") }
    guard (try a.ints("dilations") ?? [1, 1]) == [1, 1] else { throw a.unsupported("dilated transposed convolutions are not supported") }
    if let b, b.dims != [w.dims[1]] { throw a.malformed("bias \(b.dims) does not fit \(w.dims[1]) output channels") }
    let win = try window(a, kernel: Array(w.dims[2...]), input: [shape[0], Int.max / 4, Int.max / 4])
    let extra = try a.ints("output_padding") ?? [0, 0]
    guard extra.count == 2, extra[0] == extra[1], extra[0] >= 0, extra[0] < win.stride else {
      throw a.unsupported("output_padding \(extra) must be equal and below the stride")
    }
    let out = { (n: Int) in (n - 1) * win.stride - 2 * win.padding + win.kernel + extra[0] }
    guard out(shape[1]) > 0, out(shape[2]) > 0 else { throw a.malformed("the transposed window gives an empty output") }
    let name = memberName(layerHint(a, weight: 1))
    let layer = LayerSpec(type: "conv_transpose2d", name: name, out: w.dims[1], kernel: win.kernel, stride: win.stride,
                          padding: win.padding, outputPadding: extra[0], bias: b != nil)
    var weights = ["weight": w.tensor]
    if let b { weights["bias"] = b.tensor }
    return emit(layer, on: x, output: output, shape: [w.dims[1], out(shape[1]), out(shape[2])], weights: weights)
  }

  /// Gemm (`alpha·A·op(B) + beta·C`) or MatMul with a constant right side, as a linear layer.
  mutating func linear(_ a: NodeAttributes, output: String) throws -> Value {
    let gemm = a.node.opType == "Gemm"
    try a.requireOnly(gemm ? ["alpha", "beta", "transA", "transB"] : [])
    let (x, shape) = try tensor(a, 0)
    guard shape.count == 1 else { throw a.unsupported("\(a.node.opType) needs a flat input [N, F], got per-example \(shape); Flatten first") }
    guard try a.int("transA", default: 0) == 0 else { throw a.unsupported("transA = 1 is not supported") }
    let b = try constantInput(a, 1)
    guard b.dims.count == 2 else { throw a.malformed("the weight must be a matrix, got \(b.dims)") }
    let transposed = try gemm && a.int("transB", default: 0) == 1
    var weight = b.tensor
    if !transposed { weight = weight.transposed() }
    guard weight.shape[1] == shape[0] else { throw a.malformed("weight \(b.dims) does not fit \(shape[0]) input features") }
    let alpha = try a.float("alpha", default: 1), beta = try a.float("beta", default: 1)
    if alpha != 1 { weight = weight * alpha }
    let outFeatures = weight.shape[0]
    var bias: Tensor?
    if gemm, let c = try optionalConstant(a, 2) {
      guard c.count == outFeatures, c.dims.last == outFeatures || c.dims.isEmpty, c.dims.dropLast().allSatisfy({ $0 == 1 }) else {
        throw a.unsupported("only a per-output bias C is supported, got \(c.dims)")
      }
      bias = Tensor(c.floats, shape: [outFeatures]) * beta
    }
    let name = memberName(layerHint(a, weight: 1))
    var weights = ["weight": weight]
    if let bias { weights["bias"] = bias }
    return emit(LayerSpec(type: "linear", name: name, out: outFeatures, bias: bias != nil), on: x, output: output,
                shape: [outFeatures], weights: weights)
  }

  mutating func clip(_ a: NodeAttributes, output: String) throws -> Value {
    let (x, shape) = try tensor(a, 0)
    var lower: Float?, upper: Float?
    if opset < 11 {
      try a.requireOnly(["min", "max"])
      lower = a.has("min") ? try a.float("min", default: 0) : nil
      upper = a.has("max") ? try a.float("max", default: 0) : nil
    } else {
      try a.requireOnly([])
      for (i, slot) in [1, 2].enumerated() {
        guard let c = try optionalConstant(a, slot) else { continue }
        guard c.count == 1 else { throw a.unsupported("Clip bounds must be scalars") }
        if i == 0 { lower = c.floats[0] } else { upper = c.floats[0] }
      }
    }
    guard lower.map({ !$0.isNaN }) ?? true, upper.map({ !$0.isNaN }) ?? true, (lower ?? -.infinity) <= (upper ?? .infinity) else {
      throw a.malformed("Clip bounds \(String(describing: lower))…\(String(describing: upper)) are not an interval")
    }
    var layer = LayerSpec(type: "clip")
    try layer.setOption("min", lower.flatMap { $0.isFinite ? $0 : nil })
    try layer.setOption("max", upper.flatMap { $0.isFinite ? $0 : nil })
    return emit(layer, on: x, output: output, shape: shape)
  }

  /// `Pad` in constant mode with value 0 on the spatial axes of an image (nn.ZeroPad2d, or the
  /// explicit padding of an asymmetric export); pads on the batch or channel axis, negative pads
  /// (crops), other values and the reflect, edge and wrap modes are refused.
  mutating func pad(_ a: NodeAttributes, output: String) throws -> Value {
    let (x, shape) = try tensor(a, 0)
    guard shape.count == 3 else { throw a.unsupported("Pad is supported on images [N, C, H, W], got per-example \(shape)") }
    var pads: [Int], value: Float = 0, axes = [0, 1, 2, 3]
    if opset < 11 {
      try a.requireOnly(["mode", "pads", "value"])
      pads = try a.ints("pads") ?? []
      value = try a.float("value", default: 0)
    } else {
      try a.requireOnly(["mode"])
      guard let p = try constantInput(a, 1).integers else { throw a.unsupported("the pads must be a constant integer list") }
      pads = p.map { Int(clamping: $0) }
      if let c = try optionalConstant(a, 2) {
        guard c.count == 1 else { throw a.unsupported("the constant value must be a scalar") }
        value = c.floats[0]
      }
      if let given = try optionalConstant(a, 3) {
        guard let list = given.integers, !list.isEmpty, list.allSatisfy({ (-4...3).contains($0) }) else {
          throw a.malformed("axes must be integers in -4...3")
        }
        axes = list.map { Int($0 < 0 ? $0 + 4 : $0) }
        guard Set(axes).count == axes.count else { throw a.malformed("axes \(list) repeat an axis") }
      }
    }
    let mode = try a.string("mode", default: "constant")
    guard mode == "constant" else { throw a.unsupported("Pad mode '\(mode)' is not supported (only constant zero padding)") }
    guard value == 0 else { throw a.unsupported("Pad with the value \(value) is not supported (only zeros)") }
    guard pads.count == 2 * axes.count else { throw a.malformed("\(pads.count) pads for \(axes.count) axes") }
    var before = [0, 0, 0, 0], after = [0, 0, 0, 0]
    for (k, axis) in axes.enumerated() { (before[axis], after[axis]) = (pads[k], pads[k + axes.count]) }
    guard before[0] == 0, after[0] == 0, before[1] == 0, after[1] == 0 else {
      throw a.unsupported("Pad on the batch or channel axis is not supported (only height and width)")
    }
    guard (before + after).allSatisfy({ $0 >= 0 }) else { throw a.unsupported("negative pads (crops) are not supported") }
    guard (before + after).allSatisfy({ $0 <= LayerBuildContext.maximumExtent }) else {
      throw a.malformed("pads \(pads) exceed \(LayerBuildContext.maximumExtent)")
    }
    var layer = LayerSpec(type: "pad2d")
    try layer.setOption("pads", [before[2], after[2], before[3], after[3]])
    let (top, bottom, left, right) = (before[2], after[2], before[3], after[3])
    return emit(layer, on: x, output: output, shape: [shape[0], shape[1] + top + bottom, shape[2] + left + right])
  }

  mutating func pooling(_ a: NodeAttributes, output: String) throws -> Value {
    let average = a.node.opType == "AveragePool"
    try a.requireOnly(Set(["kernel_shape", "strides", "pads", "dilations", "ceil_mode", "auto_pad"])
                        .union(average ? ["count_include_pad"] : ["storage_order"]))
    let (x, shape) = try tensor(a, 0)
    guard let kernel = try a.ints("kernel_shape") else { throw a.malformed("\(a.node.opType) needs kernel_shape") }
    let win = try window(a, kernel: kernel, input: shape)
    guard win.dilation == 1 else { throw a.unsupported("dilated pooling is not supported") }
    guard win.padding * 2 <= win.kernel else { throw a.unsupported("padding \(win.padding) is more than half the kernel \(win.kernel)") }
    guard try a.int("storage_order", default: 0) == 0 else { throw a.unsupported("storage_order 1 is not supported") }
    if average, win.padding > 0, try a.int("count_include_pad", default: 0) == 0 {
      throw a.unsupported("average pooling that excludes padded zeros (count_include_pad = 0) with padding is not supported; "
                          + "the engine counts them (PyTorch's count_include_pad=True)")
    }
    let (oh, ow) = (windowOutput(shape[1], win), windowOutput(shape[2], win))
    if try a.int("ceil_mode", default: 0) == 1 {
      // Ceil mode adds a last window only when the stride leaves a remainder; without one it is floor mode.
      let ceilOut = { (n: Int) in (n + 2 * win.padding - win.kernel + win.stride - 1) / win.stride + 1 }
      let clipped = { (n: Int, o: Int) in (o - 1) * win.stride >= n + win.padding ? o - 1 : o }
      guard clipped(shape[1], ceilOut(shape[1])) == oh, clipped(shape[2], ceilOut(shape[2])) == ow else {
        throw a.unsupported("ceil_mode = 1 adds a partial window here; export with ceil_mode=False")
      }
    }
    var layer = LayerSpec(type: average ? "avgpool2d" : "maxpool2d", kernel: win.kernel, stride: win.stride, padding: win.padding)
    // PyTorch takes the exact first maximum; near-ties on natural images are real differences.
    if !average { try layer.setOption("tie_tolerance", MaxPoolTies.exact) }
    return emit(layer, on: x, output: output, shape: [shape[0], oh, ow])
  }

  mutating func globalAverage(_ a: NodeAttributes, keepDimensions: Bool, output: String) throws -> Value {
    let (x, shape) = try tensor(a, 0)
    guard shape.count == 3 else { throw a.malformed("spatial averaging needs an image [C, H, W], got \(shape)") }
    let pooled = emit(LayerSpec(type: "global_avgpool"), on: x, output: keepDimensions ? "pooled:" + output : output, shape: [shape[0]])
    guard keepDimensions, case let .tensor(name, _) = pooled else { return pooled }
    var reshape = LayerSpec(type: "reshape")
    try reshape.setOption("shape", [shape[0], 1, 1])
    return emit(reshape, on: name, output: output, shape: [shape[0], 1, 1])
  }

  mutating func reduceMean(_ a: NodeAttributes, output: String) throws -> Value {
    try a.requireOnly(["axes", "keepdims", "noop_with_empty_axes"])
    let (_, shape) = try tensor(a, 0)
    var axes = try a.ints("axes")
    if opset >= 18, let given = try optionalConstant(a, 1) { axes = given.integers.map { $0.map { Int($0) } } }
    let normalized = Set((axes ?? []).map { $0 < 0 ? $0 + shape.count + 1 : $0 })
    guard shape.count == 3, normalized == [2, 3] else {
      throw a.unsupported("ReduceMean is supported over the spatial axes (2, 3) only, got \(axes ?? [])")
    }
    return try globalAverage(a, keepDimensions: try a.int("keepdims", default: 1) == 1, output: output)
  }

  mutating func flatten(_ a: NodeAttributes, output: String) throws -> Value {
    try a.requireOnly(["axis"])
    let (x, shape) = try tensor(a, 0)
    let axis = try a.int("axis", default: 1)
    guard axis == 1 || axis == 1 - (shape.count + 1) else { throw a.unsupported("Flatten with axis \(axis) would merge the batch axis") }
    if shape.count == 1 { return .tensor(x, shape) }
    return emit(LayerSpec(type: "flatten"), on: x, output: output, shape: [shape.reduce(1, *)])
  }

  /// A Reshape with a constant target; its first extent must keep the batch axis (-1, 0, or
  /// the batch extent a static export baked in, which is generalised and reported).
  mutating func reshape(_ a: NodeAttributes, output: String) throws -> Value {
    try a.requireOnly(["allowzero"])
    let (x, shape) = try tensor(a, 0)
    guard let target = try constantInput(a, 1).integers, !target.isEmpty, target.count <= 5 else {
      throw a.unsupported("the target shape must be a constant list of 1 to 5 integers")
    }
    let allowZero = try a.int("allowzero", default: 0) == 1
    let count = shape.reduce(1, *)
    var rest = target.dropFirst().map { Int($0) }
    for (i, r) in rest.enumerated() where r == 0 && !allowZero {
      guard i < shape.count else { throw a.malformed("a 0 in the target copies axis \(i + 1), which the input lacks") }
      rest[i] = shape[i]
    }
    guard rest.allSatisfy({ $0 == -1 || $0 > 0 }), rest.filter({ $0 == -1 }).count <= 1 else {
      throw a.unsupported("target \(target) is not a reshape of each example (zeros with allowzero, or two -1)")
    }
    let known = rest.filter { $0 != -1 }.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
    let perExample = rest.map { $0 == -1 ? (known > 0 && count % known == 0 ? count / known : -1) : $0 }
    guard perExample.allSatisfy({ $0 > 0 }), perExample.reduce(1, *) == count else {
      throw a.malformed("cannot reshape \(shape) per example to \(rest)")
    }
    switch target[0] {
    case -1 where rest.contains(-1):
      throw a.unsupported("target \(target) has two -1 extents; export with a dynamic batch (dynamic_axes / dynamic_shapes)")
    case -1: break
    case 0 where !allowZero: break
    case let n where exportBatch != nil && Int(n) == exportBatch:
      report.batch = "static \(n) in the file; generalised to any batch"
      report.notes.append("Reshape \(a.label) bakes the export batch \(n) into its target \(target); every value is batch-major, "
                          + "so it is read as [N, \(rest.map(String.init).joined(separator: ", "))]")
    default:
      throw a.unsupported("target \(target) does not keep the batch axis; re-export with a dynamic batch: "
                          + "torch.onnx.export(model, x, f, dynamic_axes={'input': {0: 'batch'}}) "
                          + "or dynamic_shapes={'x': {0: torch.export.Dim('batch')}}")
    }
    if perExample == shape { return .tensor(x, shape) }
    if perExample.count == 1 { return emit(LayerSpec(type: "flatten"), on: x, output: output, shape: perExample) }
    var layer = LayerSpec(type: "reshape")
    try layer.setOption("shape", perExample)
    return emit(layer, on: x, output: output, shape: perExample)
  }

  mutating func concatenation(_ a: NodeAttributes, output: String) throws -> Value {
    try a.requireOnly(["axis"])
    guard a.has("axis") else { throw a.malformed("Concat needs an axis") }
    let parts = try (0..<a.node.input.count).map { try tensor(a, $0) }
    guard let first = parts.first else { throw a.malformed("Concat has no inputs") }
    var axis = try a.int("axis", default: 1)
    if axis < 0 { axis += first.1.count + 1 }
    guard axis >= 1, axis <= first.1.count else { throw a.unsupported("Concat along axis \(axis) would join the batch axis") }
    var shape = first.1
    shape[axis - 1] = 0
    for (_, s) in parts {
      guard s.count == first.1.count, (0..<s.count).allSatisfy({ $0 == axis - 1 || s[$0] == first.1[$0] }) else {
        throw a.malformed("cannot concatenate \(s) with \(first.1) along axis \(axis)")
      }
      shape[axis - 1] += s[axis - 1]
    }
    if parts.count == 1 { return .tensor(first.0, first.1) }
    nodes.append(GraphNodeSpec(op: "concat", inputs: parts.map(\.0), output: output, axis: axis - 1))
    return .tensor(output, shape)
  }

  mutating func batchNorm(_ a: NodeAttributes, output: String) throws -> Value {
    try a.requireOnly(["epsilon", "momentum", "training_mode", "spatial"])
    let (x, shape) = try tensor(a, 0)
    guard try a.int("spatial", default: 1) == 1 else { throw a.unsupported("spatial = 0 is not supported") }
    let parts = try (1...4).map { try constantInput(a, $0) }
    let features = shape[0]
    guard shape.count == 3 || shape.count == 1, parts.allSatisfy({ $0.dims == [features] }) else {
      throw a.malformed("scale, bias, mean and variance must each hold \(features) values for the input \(shape)")
    }
    let epsilon = try a.float("epsilon", default: 1e-5), momentum = try a.float("momentum", default: 0.9)
    guard epsilon > 0, (0...1).contains(momentum) else { throw a.malformed("epsilon must be positive and momentum in [0, 1]") }
    if try a.int("training_mode", default: 0) == 1 || a.node.output.count > 1 { report.batchNormTraining += 1 } else { report.batchNormInference += 1 }
    let name = memberName(layerHint(a, weight: 1))
    // ONNX's momentum weighs the old running value, PyTorch's (and ours) the new batch statistic.
    let layer = LayerSpec(type: shape.count == 3 ? "batchnorm2d" : "batchnorm1d", name: name, eps: epsilon, momentum: 1 - momentum)
    let weights = ["weight": parts[0].tensor, "bias": parts[1].tensor, "running_mean": parts[2].tensor, "running_var": parts[3].tensor]
    return emit(layer, on: x, output: output, shape: shape, weights: weights)
  }

  mutating func dropout(_ a: NodeAttributes, output: String) throws -> Value {
    try a.requireOnly(opset < 12 ? ["ratio", "is_test", "seed"] : ["seed"])
    let (x, shape) = try tensor(a, 0)
    var ratio = opset < 12 ? try a.float("ratio", default: 0.5) : 0.5
    if opset >= 12, let r = try optionalConstant(a, 1) {
      guard r.count == 1 else { throw a.malformed("the ratio must be a scalar") }
      ratio = r.floats[0]
    }
    guard (0..<1).contains(ratio) else { throw a.malformed("ratio \(ratio) is outside [0, 1)") }
    if ratio == 0 { return .tensor(x, shape) }
    return emit(LayerSpec(type: "dropout", p: ratio), on: x, output: output, shape: shape)
  }

  func constant(_ a: NodeAttributes) throws -> ConstantTensor {
    try a.requireOnly(["value", "value_float", "value_floats", "value_int", "value_ints"])
    if let t = a.tensor("value") { return try ConstantTensor(t, name: a.node.output[0], external: external) }
    if a.has("value_float") { return .init(dims: [], floats: [try a.float("value_float", default: 0)]) }
    if a.has("value_int") {
      let v = try a.int("value_int", default: 0)
      var c = ConstantTensor(dims: [], floats: [Float(v)])
      c.integers = [Int64(v)]
      return c
    }
    if let v = try a.ints("value_ints") {
      var c = ConstantTensor(dims: [v.count], floats: v.map(Float.init))
      c.integers = v.map(Int64.init)
      return c
    }
    if let f = a.node.attribute.first(where: { $0.name == "value_floats" }) {
      return .init(dims: [f.floats.count], floats: f.floats)
    }
    throw a.malformed("Constant has no value")
  }

  /// Only a Transpose of an NHWC data input to NCHW, which the import absorbs (our images are
  /// NCHW; the input shape was read in that order).
  func transpose(_ a: NodeAttributes) throws -> Value {
    try a.requireOnly(["perm"])
    guard nhwcInput, a.node.input.first == inputName, try a.ints("perm") == [0, 3, 1, 2], let input = values[inputName] else {
      throw a.unsupported("only a Transpose of an NHWC input to NCHW (perm [0, 3, 1, 2]), its only use, is supported")
    }
    return input
  }

  /// A member name for a node's layer: its weight's name without the `.weight` suffix (PyTorch's
  /// module path) when it has one, else the node's name.
  func layerHint(_ a: NodeAttributes, weight: Int) -> String {
    let w = weight < a.node.input.count ? a.node.input[weight] : ""
    if !w.isEmpty, !w.hasPrefix("onnx::"), !w.hasPrefix("_"), !w.hasPrefix("/") {
      for suffix in [".weight", ".scale", ".gamma"] where w.hasSuffix(suffix) { return String(w.dropLast(suffix.count)) }
      return w
    }
    return a.node.name.isEmpty ? a.node.opType.lowercased() : a.node.name
  }

  /// Records `(x − mean) / std` applied to the input as the normalisation front end.
  mutating func noteNormalization(_ op: String, _ a: NodeAttributes, _ result: Value) {
    guard case .tensor(let out, _) = result, let lhs = try? value(a, 0), case .tensor(let name, _) = lhs,
          case .constant(let c)? = try? value(a, 1), c.count == report.input.first, report.input.count == 3 else { return }
    if op == "sub", name == "input" || name == "input_shifted" {
      report.normalizationMean = c.floats
      normalizationValue = out
    } else if op == "div", name == normalizationValue, report.normalizationStd == nil {
      report.normalizationStd = c.floats
    }
  }
}
