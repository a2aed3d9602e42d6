import PixelTensor

/// One node of a `graph` layer spec: a layer applied to one value, or an operation on several.
///
/// ```json
/// {"inputs":["input"],"output":"c1","layer":{"type":"conv2d","name":"conv1","out":16,"kernel":3}}
/// {"op":"add","inputs":["c1","skip"],"output":"sum"}
/// {"op":"concat","axis":0,"inputs":["a","b"],"output":"ab"}
/// ```
/// `op` is `layer` (the default when `layer` is given), `add`, `sub`, `mul`, `div` (two inputs,
/// NumPy broadcasting of the per-example shapes) or `concat` (per-example `axis`, 0 = channels).
public struct GraphNodeSpec: Codable, Equatable, Sendable {
  /// `layer` (implied by a `layer` field), `add`, `sub`, `mul`, `div` or `concat`.
  public var op: String?
  /// The layer a `layer` node applies (any kind the builder knows; unnamed ones are named `n<index>`).
  public var layer: LayerSpec?
  /// The values read: `input`, constants, or earlier nodes' outputs.
  public var inputs: [String]
  /// The value written, new to the graph.
  public var output: String
  /// `concat`: the per-example axis (default 0, channels).
  public var axis: Int?

  public init(op: String? = nil, layer: LayerSpec? = nil, inputs: [String], output: String, axis: Int? = nil) {
    self.op = op; self.layer = layer; self.inputs = inputs; self.output = output; self.axis = axis
  }
}

/// A constant of a `graph` layer spec: a buffer of per-example `shape` whose value comes from the
/// checkpoint (zeros until one is loaded).
public struct GraphConstantSpec: Codable, Equatable, Sendable {
  /// The value's name and the buffer's member name (no dots).
  public var name: String
  /// At most 4 extents, right-aligned against the per-example shapes it meets.
  public var shape: [Int]

  public init(name: String, shape: [Int]) { self.name = name; self.shape = shape }
}

extension ModelBuilder {
  /// The most inputs one `concat` node may join (DenseNet-121's widest joins 25).
  static let maximumConcatInputs = 4096

  /// `graph` (name, constants, nodes, output): a ``Graph`` checked value by value — every input
  /// defined before its use, every output new, shapes that fit.
  static let graph = LayerBuilder(type: "graph", options: ["constants", "nodes", "output"]) { s, input, context in
    let name = try context.required(s.name, "name", for: s.type)
    let constants = try context.option(s, "constants", as: [GraphConstantSpec].self) ?? []
    let nodes = try context.required(context.option(s, "nodes", as: [GraphNodeSpec].self), "nodes", for: s.type)
    let output = try context.required(context.option(s, "output", as: String.self), "output", for: s.type)
    guard !nodes.isEmpty else { throw context.invalid("graph '\(name)' has no nodes") }
    let path = context.path, prefix = context.prefix + name + "."

    // Slot 0 is the input, then the constants, then one slot per node output.
    var slots: [String: Int] = ["input": 0]
    var shapes: [[Int]?] = [input]
    var buffers: [(name: String, buffer: Buffer)] = []
    for c in constants {
      guard !c.name.isEmpty, !c.name.contains("."), slots[c.name] == nil else {
        throw context.invalid("graph constant '\(c.name)' is empty, repeated, contains a dot or is named 'input'")
      }
      guard c.shape.count <= 4, try c.shape.allSatisfy({ try context.positive($0, "constant shape") > 0 }) else {
        throw context.invalid("graph constant '\(c.name)' must have at most 4 extents, got \(c.shape)")
      }
      _ = try context.elementCount(c.shape, of: "constant '\(c.name)'")
      slots[c.name] = shapes.count
      shapes.append(nil)
      buffers.append((c.name, Buffer(.zeros(Shape(c.shape)))))
    }
    let constantShapes = constants.map(\.shape)
    func shapeOf(_ slot: Int) -> [Int] { shapes[slot] ?? constantShapes[slot - 1] }

    var layers: [(name: String, layer: any Layer)] = []
    var built: [(operation: Graph.Operation, inputs: [Int], output: Int)] = []
    for (j, node) in nodes.enumerated() {
      let at = "\(path).nodes[\(j)]"
      func invalid(_ reason: String) -> ModelSpecError { context.invalid("nodes[\(j)] (output '\(node.output)'): \(reason)") }
      let inputSlots = try node.inputs.map { value -> Int in
        guard let slot = slots[value] else { throw invalid("value '\(value)' is used before it is defined") }
        return slot
      }
      let batched = inputSlots.filter { shapes[$0] != nil }
      let op = node.op ?? (node.layer == nil ? "" : "layer")
      guard (op == "layer") == (node.layer != nil) else { throw invalid("only op 'layer' takes a 'layer'") }
      guard node.axis == nil || op == "concat" else { throw invalid("only op 'concat' takes an 'axis'") }
      let operation: Graph.Operation, shape: [Int]
      switch op {
      case "layer":
        guard inputSlots.count == 1, batched.count == 1 else { throw invalid("a layer takes one value (not a constant)") }
        var spec = node.layer!
        if spec.name == nil { spec.name = "n\(j)" }
        let (sequence, out) = try context.sequential([spec], input: shapeOf(inputSlots[0]), path: at + ".layer", prefix: prefix)
        operation = .layer(layers.count)
        layers.append(sequence.layers[0])
        shape = out
      case "add", "sub", "mul", "div":
        guard inputSlots.count == 2 else { throw invalid("\(op) takes two inputs, got \(inputSlots.count)") }
        guard !batched.isEmpty else { throw invalid("\(op) of two constants; fold it into one constant") }
        let (a, b) = (shapeOf(inputSlots[0]), shapeOf(inputSlots[1]))
        for (slot, other) in [(inputSlots[0], b), (inputSlots[1], a)] where shapes[slot] == nil {
          guard shapeOf(slot).count <= other.count else {
            throw invalid("constant of shape \(shapeOf(slot)) has more axes than the value \(other) it combines with")
          }
        }
        guard batched.count == 1 || a.count == b.count else {
          throw invalid("values of shapes \(a) and \(b) have different ranks (the batch axes would not align)")
        }
        guard let joined = Shape.broadcast(Shape(a), Shape(b))?.dims else { throw invalid("shapes \(a) and \(b) do not broadcast") }
        operation = ["add": .add, "sub": .subtract, "mul": .multiply, "div": .divide][op]!
        shape = joined
      case "concat":
        guard (1...maximumConcatInputs).contains(inputSlots.count), batched.count == inputSlots.count else {
          throw invalid("concat joins 1...\(maximumConcatInputs) values (not constants), got \(inputSlots.count) inputs")
        }
        let first = shapeOf(inputSlots[0])
        let axis = node.axis ?? 0
        guard (0..<first.count).contains(axis) else { throw invalid("axis \(axis) is not a per-example axis of \(first)") }
        var joined = first
        joined[axis] = 0
        for slot in inputSlots {
          let s = shapeOf(slot)
          guard s.count == first.count, (0..<s.count).allSatisfy({ $0 == axis || s[$0] == first[$0] }) else {
            throw invalid("cannot concatenate \(s) with \(first) along axis \(axis)")
          }
          joined[axis] += s[axis]
        }
        _ = try context.elementCount(joined, of: "the output")
        operation = .concatenate(axis: axis)
        shape = joined
      default:
        throw invalid("unknown op '\(op)' (known: layer, add, sub, mul, div, concat)")
      }
      guard !node.output.isEmpty, slots[node.output] == nil else {
        throw invalid("output '\(node.output)' is empty or already defined (each value is written once)")
      }
      slots[node.output] = shapes.count
      shapes.append(shape)
      built.append((operation, inputSlots, shapes.count - 1))
    }
    guard let outputSlot = slots[output], let outputShape = shapes[outputSlot] else {
      throw context.invalid("graph '\(name)': output '\(output)' is not a value the nodes compute")
    }
    let graph = Graph(layers: layers, constants: buffers, nodes: built, slotCount: shapes.count, output: outputSlot)
    return (graph, outputShape)
  }
}
