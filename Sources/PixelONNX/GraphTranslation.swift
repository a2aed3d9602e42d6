import Foundation
import PixelNN
import PixelTensor

/// One ONNX graph on its way to a ``Graph`` layer spec: the values known so far (graph values
/// with their per-example shapes, or constants), the nodes and constants emitted, and the
/// weights by their parameter path.
struct GraphTranslation {
  /// What an ONNX value name stands for.
  enum Value {
    /// A value of the graph (batched), by its name in the spec, with its per-example shape.
    case tensor(String, [Int])
    case constant(ConstantTensor)
  }

  let file: String
  let graph: Onnx_GraphProto
  let opset: Int
  let options: ONNXImportOptions
  let external: ExternalData
  var values: [String: Value] = [:]
  var nodes: [GraphNodeSpec] = []
  var constants: [GraphConstantSpec] = []
  var state: [String: Tensor] = [:]
  var memberNames: Set<String> = []
  var report: ONNXImportReport
  /// The batch extent the file's input declares, if it is a number (a static export).
  let exportBatch: Int?
  /// The ONNX name of the data input and of the graph output.
  let inputName: String, outputName: String
  /// Whether the file's input is NHWC and its only use a Transpose to NCHW.
  let nhwcInput: Bool
  /// The value `input − mean` of a normalisation front end, while its division is awaited.
  var normalizationValue: String?

  init(graph: Onnx_GraphProto, file url: URL, opset: Int, options: ONNXImportOptions) throws {
    file = url.path
    self.graph = graph
    self.opset = opset
    self.options = options
    external = try ExternalData(modelFile: url)
    guard graph.sparseInitializer.isEmpty else {
      throw ONNXError.unsupported(file: file, node: "graph", opType: "SparseTensor", reason: "sparse initializers are not supported")
    }
    let initializerNames = Set(graph.initializer.map(\.name))
    let dataInputs = graph.input.filter { !initializerNames.contains($0.name) }
    guard dataInputs.count == 1 else {
      throw ONNXError.malformed(file: file, node: "graph", reason: "a classifier has one data input, this graph has \(dataInputs.count) "
                                + "(\(dataInputs.map(\.name).joined(separator: ", ")))")
    }
    guard graph.output.count == 1 else {
      throw ONNXError.malformed(file: file, node: "graph", reason: "a classifier has one output (the logits), this graph has \(graph.output.count)")
    }
    inputName = dataInputs[0].name
    outputName = graph.output[0].name
    let dims = dataInputs[0].type.tensorType.shape.dim
    guard dataInputs[0].type.tensorType.elemType == Int32(Onnx_TensorProto.DataType.float.rawValue) else {
      throw ONNXError.unsupported(file: file, node: "input '\(inputName)'", opType: "input",
                                  reason: "the input must be float32, it is data type \(dataInputs[0].type.tensorType.elemType)")
    }
    guard dims.count == 2 || dims.count == 4 else {
      throw ONNXError.unsupported(file: file, node: "input '\(inputName)'", opType: "input",
                                  reason: "the input must be [N, C, H, W] or [N, F], it has \(dims.count) axes")
    }
    if case .dimValue(let n)? = dims[0].value, n > 0 { exportBatch = Int(n) } else { exportBatch = nil }
    var perExample = dims.dropFirst().map { d -> Int? in
      if case .dimValue(let v)? = d.value, v > 0, v <= Int64(LayerBuildContext.maximumExtent) { return Int(v) }
      return nil
    }
    if let given = options.inputShape {
      guard given.count == perExample.count else {
        throw ONNXError.malformed(file: file, node: "input '\(inputName)'", reason: "--input-shape \(given) has \(given.count) extents, the input has \(perExample.count)")
      }
      for (i, (g, d)) in zip(given, perExample).enumerated() where d != nil && d != g {
        throw ONNXError.malformed(file: file, node: "input '\(inputName)'", reason: "--input-shape gives \(g) for axis \(i + 1), the file says \(d!)")
      }
      perExample = given
    }
    guard perExample.allSatisfy({ $0 != nil }) else {
      throw ONNXError.unsupported(file: file, node: "input '\(inputName)'", opType: "input",
                                  reason: "the input's per-example extents are symbolic; give them with --input-shape C,H,W")
    }
    let uses = graph.node.filter { $0.input.contains(dataInputs[0].name) }
    nhwcInput = perExample.count == 3 && uses.count == 1 && uses[0].opType == "Transpose"
      && uses[0].attribute.first { $0.name == "perm" }?.ints == [0, 3, 1, 2]
    if nhwcInput { perExample = [perExample[2], perExample[0], perExample[1]] }
    report = ONNXImportReport(file: file, input: perExample.map { $0! },
                              batch: exportBatch.map { "static \($0) in the file" } ?? "dynamic")
    report.opset = opset
    values[inputName] = .tensor("input", report.input)
    for t in graph.initializer {
      values[t.name] = .constant(try ConstantTensor(t, name: t.name, external: external))
    }
  }

  /// Translates every node, in a topological order (the file's, when it is one).
  mutating func run() throws {
    if options.inputRange != 0...1 {
      let (lo, hi) = (options.inputRange.lowerBound, options.inputRange.upperBound)
      let scaled = try binary("mul", .tensor("input", report.input), .constant(.init(dims: [1], floats: [hi - lo])), output: "input_scaled")
      let shifted = try binary("add", scaled, .constant(.init(dims: [1], floats: [lo])), output: "input_shifted")
      values[inputName] = shifted
      report.notes.append("pixels in [0, 1] are mapped to the model's input range [\(lo), \(hi)] by x·\(hi - lo) + \(lo)")
    }
    for (index, node) in try topologicalOrder() {
      report.operators[node.opType, default: 0] += 1
      try translate(node, label: Self.label(node, index))
    }
  }

  static func label(_ node: Onnx_NodeProto, _ index: Int) -> String {
    node.name.isEmpty ? "#\(index)" : "'\(node.name)' (#\(index))"
  }

  /// The nodes in an order in which every input is defined before use (Kahn's algorithm, stable
  /// in file order); a cycle or a value nothing defines is an error naming a node.
  func topologicalOrder() throws -> [(Int, Onnx_NodeProto)] {
    var producer: [String: Int] = [:]
    for (i, n) in graph.node.enumerated() {
      for o in n.output where !o.isEmpty {
        guard producer[o] == nil, values[o] == nil else {
          throw ONNXError.malformed(file: file, node: Self.label(n, i), reason: "value '\(o)' is defined twice")
        }
        producer[o] = i
      }
    }
    var waiting = [Int](repeating: 0, count: graph.node.count)
    var consumers: [Int: [Int]] = [:]
    for (i, n) in graph.node.enumerated() {
      for input in Set(n.input) where !input.isEmpty && values[input] == nil {
        guard let p = producer[input] else {
          throw ONNXError.malformed(file: file, node: Self.label(n, i), reason: "value '\(input)' is used but never defined")
        }
        waiting[i] += 1
        consumers[p, default: []].append(i)
      }
    }
    var ready = (0..<graph.node.count).filter { waiting[$0] == 0 }.reversed() as [Int]
    var order: [(Int, Onnx_NodeProto)] = []
    while let i = ready.popLast() {
      order.append((i, graph.node[i]))
      var next: [Int] = []
      for c in consumers[i] ?? [] {
        waiting[c] -= 1
        if waiting[c] == 0 { next.append(c) }
      }
      ready = (ready + next).sorted(by: >)
    }
    if order.count < graph.node.count, let stuck = (0..<graph.node.count).first(where: { waiting[$0] > 0 }) {
      throw ONNXError.malformed(file: file, node: Self.label(graph.node[stuck], stuck),
                                reason: "the graph has a cycle through this node (its inputs depend on its own output)")
    }
    return order
  }

  // MARK: Emitting

  /// A member name (no dots) derived from `hint`, unique in the graph.
  mutating func memberName(_ hint: String) -> String {
    var base = String(hint.map { $0.isLetter || $0.isNumber ? $0 : "_" }).trimmingCharacters(in: CharacterSet(charactersIn: "_"))
    while base.contains("__") { base = base.replacingOccurrences(of: "__", with: "_") }
    if base.isEmpty || base.first!.isNumber || base == "input" { base = "n_" + base }
    var name = base, k = 2
    while memberNames.contains(name) { name = "\(base)_\(k)"; k += 1 }
    memberNames.insert(name)
    return name
  }

  /// Emits `layer` on `input` and records `weights` (by local tensor name) under its path.
  mutating func emit(_ layer: LayerSpec, on input: String, output: String, shape: [Int], weights: [String: Tensor] = [:]) -> Value {
    nodes.append(GraphNodeSpec(layer: layer, inputs: [input], output: output))
    if let name = layer.name {
      for (k, t) in weights { state["\(ONNXImporter.graphName).\(name).\(k)"] = t }
    }
    return .tensor(output, shape)
  }

  /// A constant as a graph value name: a buffer of per-example shape aligned to `rank`
  /// per-example axes (a leading batch extent of 1 is dropped).
  mutating func constantName(_ c: ConstantTensor, alignedTo rank: Int, hint: String, at node: NodeAttributes) throws -> (String, [Int]) {
    var dims = c.dims
    if dims.count == rank + 1 {
      guard dims[0] == 1 else { throw node.unsupported("a constant of shape \(c.dims) would stretch the batch axis") }
      dims.removeFirst()
    }
    guard dims.count <= rank else { throw node.unsupported("a constant of shape \(c.dims) has more axes than the value it meets") }
    let name = memberName("k_" + hint)
    constants.append(GraphConstantSpec(name: name, shape: dims))
    state["\(ONNXImporter.graphName).\(name)"] = Tensor(c.floats, shape: Shape(dims))
    return (name, dims)
  }

  /// `a op b` for graph values or constants (two constants are folded here).
  mutating func binary(_ op: String, _ a: Value, _ b: Value, output: String, node: NodeAttributes? = nil) throws -> Value {
    switch (a, b) {
    case let (.constant(x), .constant(y)):
      // Folded in float; integer constants (shape arithmetic) stay integers except under division.
      let (s, t) = (x.tensor, y.tensor)
      let folded = op == "add" ? s + t : op == "sub" ? s - t : op == "mul" ? s * t : s / t
      var result = ConstantTensor(dims: folded.shape.dims, floats: folded.scalars)
      if let xi = x.integers, let yi = y.integers, xi.count == yi.count, op != "div" {
        result.integers = zip(xi, yi).map { op == "add" ? $0 &+ $1 : op == "sub" ? $0 &- $1 : $0 &* $1 }
      }
      return .constant(result)
    default:
      let rank: Int
      if case .tensor(_, let s) = a { rank = s.count } else if case .tensor(_, let s) = b { rank = s.count } else { rank = 0 }
      func operand(_ v: Value, _ side: String) throws -> (String, [Int]) {
        switch v {
        case let .tensor(name, shape): return (name, shape)
        case let .constant(c):
          let at = node ?? NodeAttributes(Onnx_NodeProto(), label: output, file: file)
          return try constantName(c, alignedTo: rank, hint: "\(output)_\(side)", at: at)
        }
      }
      let (x, xs) = try operand(a, "a"), (y, ys) = try operand(b, "b")
      guard let shape = Shape.broadcast(Shape(xs), Shape(ys))?.dims else {
        throw ONNXError.malformed(file: file, node: node?.label ?? output, reason: "shapes \(xs) and \(ys) do not broadcast")
      }
      nodes.append(GraphNodeSpec(op: op, inputs: [x, y], output: output))
      return .tensor(output, shape)
    }
  }

  // MARK: Finishing

  /// Builds the model, loads the weights strictly and completes the report.
  mutating func finish(producer: String) throws -> (model: Model, report: ONNXImportReport) {
    guard let out = values[outputName] else {
      throw ONNXError.malformed(file: file, node: "graph", reason: "the output '\(outputName)' is never computed")
    }
    guard case let .tensor(name, shape) = out, shape.count == 1 else {
      throw ONNXError.unsupported(file: file, node: "graph", opType: "output",
                                  reason: "the output must be logits [N, K]; it is \(describe(out))")
    }
    var layer = LayerSpec(type: "graph", name: ONNXImporter.graphName)
    try layer.setOption("constants", constants)
    try layer.setOption("nodes", nodes)
    try layer.setOption("output", name)
    let spec = ModelSpec(input: report.input, classes: shape[0], layers: [layer])
    let model: Model
    do {
      model = try Model(spec: spec, seed: 0, source: file)
      try model.loadState(state, source: file)
    } catch let error as ModelSpecError {
      throw ONNXError.malformed(file: file, node: "graph", reason: "the translated graph does not build: \(error)")
    } catch let error as CheckpointError {
      throw ONNXError.malformed(file: file, node: "graph", reason: "the weights do not fit the translated layers: \(error)")
    }
    for (tensorName, t) in state {
      // Scanned in place: `scalars` would copy every weight once more.
      let bad = t.withUnsafeBufferPointer { b in b.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
      if bad > 0 { throw ONNXError.tensorData(file: file, tensor: tensorName, reason: "holds \(bad) NaN or infinite values") }
    }
    model.setMode(.inference)
    report.producer = producer
    report.classes = shape[0]
    report.parameters = model.parameterCount
    report.graphNodes = nodes.count
    return (model, report)
  }

  func describe(_ v: Value) -> String {
    switch v {
    case let .tensor(_, s): return "a value of per-example shape \(s)"
    case let .constant(c): return "a constant of shape \(c.dims)"
    }
  }
}
