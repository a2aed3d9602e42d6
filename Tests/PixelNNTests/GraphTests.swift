import Foundation
import Testing
import PixelTensor
import _TestSupport
@testable import PixelNN

@Suite("Graph layers")
struct GraphTests {
  static func conv(_ name: String, out: Int) -> LayerSpec {
    LayerSpec(type: "conv2d", name: name, out: out, kernel: 3, padding: 1)
  }

  static func node(_ layer: LayerSpec, _ input: String, _ output: String) -> GraphNodeSpec {
    GraphNodeSpec(layer: layer, inputs: [input], output: output)
  }

  static func graph(constants: [GraphConstantSpec] = [], _ nodes: [GraphNodeSpec], output: String) throws -> LayerSpec {
    var g = LayerSpec(type: "graph", name: "net")
    try g.setOption("constants", constants)
    try g.setOption("nodes", nodes)
    try g.setOption("output", output)
    return g
  }

  /// A residual block with batch norm, a normalising front end (sub and div by constants), a
  /// concatenation of two branches and a head: every kind of node.
  static func mixedSpec() throws -> ModelSpec {
    let g = try graph(constants: [.init(name: "mean", shape: [2, 1, 1]), .init(name: "std", shape: [2, 1, 1])], [
      GraphNodeSpec(op: "sub", inputs: ["input", "mean"], output: "centred"),
      GraphNodeSpec(op: "div", inputs: ["centred", "std"], output: "x"),
      node(conv("conv1", out: 3), "x", "c1"),
      node(LayerSpec(type: "batchnorm2d", name: "bn1"), "c1", "b1"),
      node(LayerSpec(type: "tanh"), "b1", "t1"),
      node(conv("conv2", out: 3), "t1", "c2"),
      GraphNodeSpec(op: "add", inputs: ["c2", "c1"], output: "sum"),
      node(conv("side", out: 2), "x", "s"),
      GraphNodeSpec(op: "mul", inputs: ["s", "s"], output: "s2"),
      GraphNodeSpec(op: "concat", inputs: ["sum", "s2"], output: "cat", axis: 0),
      node(LayerSpec(type: "global_avgpool"), "cat", "pooled"),
      node(LayerSpec(type: "linear", name: "fc", out: 4), "pooled", "logits"),
    ], output: "logits")
    return ModelSpec(input: [2, 5, 5], classes: 4, layers: [g])
  }

  static func mixedModel() throws -> Model {
    let model = try Model(spec: mixedSpec(), seed: 3)
    var rng = SeededGenerator(seed: 4)
    for (name, b) in model.namedBuffers where name.hasPrefix("net.mean") || name.hasPrefix("net.std") {
      b.value = Tensor.uniform(b.value.shape, in: 0.5...1.5, using: &rng)
    }
    return model
  }

  @Test("a graph residual block equals the residual layer with the same weights, bit for bit")
  func residualEquivalence() throws {
    let chain = ModelSpec(input: [2, 6, 6], classes: 3, layers: [
      LayerSpec(type: "residual", name: "net", body: [Self.conv("conv1", out: 2), LayerSpec(type: "relu"), Self.conv("conv2", out: 2)]),
      LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 3),
    ])
    let g = try Self.graph([
      Self.node(Self.conv("conv1", out: 2), "input", "a"), Self.node(LayerSpec(type: "relu"), "a", "b"),
      Self.node(Self.conv("conv2", out: 2), "b", "c"), GraphNodeSpec(op: "add", inputs: ["c", "input"], output: "d"),
    ], output: "d")
    let dag = ModelSpec(input: [2, 6, 6], classes: 3, layers: [g, LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 3)])
    let a = try Model(spec: chain, seed: 7), b = try Model(spec: dag, seed: 7)
    #expect(a.namedParameters.map(\.name) == b.namedParameters.map(\.name))
    for ((_, p), (_, q)) in zip(a.namedParameters, b.namedParameters) { q.value = p.value.detached() }
    var rng = SeededGenerator(seed: 1)
    let x = Tensor.uniform([3, 2, 6, 6], in: 0...1, using: &rng)
    a.setMode(.inference); b.setMode(.inference)
    #expect(withoutGradients { a(x) }.scalars == withoutGradients { b(x) }.scalars)
    let ga = gradients(of: crossEntropy(logits: a(x.requiringGradient()), labels: [0, 1, 2]), wrt: [a.namedParameters[0].parameter.value])
    let gb = gradients(of: crossEntropy(logits: b(x.requiringGradient()), labels: [0, 1, 2]), wrt: [b.namedParameters[0].parameter.value])
    #expect(ga[0].scalars == gb[0].scalars)
  }

  @Test("first and second derivatives through every node kind match finite differences",
        arguments: [Mode.inference, Mode.training])
  func derivatives(mode: Mode) throws {
    let model = try Self.mixedModel()
    model.setMode(mode)
    var rng = SeededGenerator(seed: 11)
    let x = Tensor.uniform([2, 2, 5, 5], in: 0...1, using: &rng)
    let w = model.namedParameters.first { $0.name == "net.conv1.weight" }!.parameter
    let f: ([Tensor]) -> Tensor = { inputs in
      let saved = w.value
      defer { w.value = saved }
      w.value = inputs[1]
      return model(inputs[0])
    }
    // Batch statistics make training mode curved enough that a smaller step is needed.
    let h: Float = mode == .training ? 2e-3 : 1e-2
    let first = checkDirectionalDerivative(f, at: [x, w.value.detached()], step: h, using: &rng)
    #expect(first.relativeError < 2e-3, "\(first)")
    let mixed = checkSecondOrder(f, at: [x, w.value.detached()], first: [0], second: [1], step: h, using: &rng)
    #expect(mixed.relativeError < 5e-3, "\(mixed)")
    let hessian = checkSecondOrder(f, at: [x, w.value.detached()], first: [0], second: [0], step: h, using: &rng)
    #expect(hessian.relativeError < 5e-3, "\(hessian)")
  }

  @Test("constants and layer weights are checkpoint state and round-trip with the spec")
  func checkpointRoundTrip() throws {
    let model = try Self.mixedModel()
    let names = Set(model.stateTensors.keys)
    #expect(names.isSuperset(of: ["net.mean", "net.std", "net.conv1.weight", "net.bn1.running_mean", "net.fc.bias"]))
    let url = temporaryFolder().appendingPathComponent("graph.safetensors")
    try Checkpoint.save(model, to: url)
    let (loaded, _) = try Checkpoint.load(from: url)
    #expect(loaded.spec == model.spec)
    var rng = SeededGenerator(seed: 2)
    let x = Tensor.uniform([2, 2, 5, 5], in: 0...1, using: &rng)
    model.setMode(.inference); loaded.setMode(.inference)
    #expect(withoutGradients { loaded(x) }.scalars == withoutGradients { model(x) }.scalars)
  }

  @Test("a value is released after its last use, the output and the constants are kept")
  func releases() throws {
    let model = try Self.mixedModel()
    let graph = try #require(model.network.layers[0].layer as? Graph)
    var live = Set([0, 1, 2])
    var peak = 0
    for node in graph.nodes {
      live.insert(node.output)
      live.subtract(node.releases)
      peak = max(peak, live.count)
      #expect(!node.releases.contains(1) && !node.releases.contains(2))
    }
    #expect(live.contains(graph.outputSlot))
    #expect(peak < graph.slotCount)
  }

  @Test("malformed graphs are refused with the node and the reason", arguments: [
    ([GraphNodeSpec(op: "add", inputs: ["input", "later"], output: "a")], "a", "used before it is defined"),
    ([GraphNodeSpec(op: "add", inputs: ["input", "input"], output: "input")], "input", "already defined"),
    ([GraphNodeSpec(op: "pow", inputs: ["input", "input"], output: "a")], "a", "unknown op 'pow'"),
    ([GraphNodeSpec(op: "add", inputs: ["input"], output: "a")], "a", "takes two inputs"),
    ([GraphNodeSpec(op: "add", inputs: ["k", "k"], output: "a")], "a", "of two constants"),
    ([GraphNodeSpec(op: "concat", inputs: ["input", "k"], output: "a")], "a", "not constants"),
    ([GraphNodeSpec(op: "concat", inputs: ["input", "input"], output: "a", axis: 3)], "a", "not a per-example axis"),
    ([GraphNodeSpec(layer: LayerSpec(type: "flatten"), inputs: ["input"], output: "f"),
      GraphNodeSpec(op: "add", inputs: ["f", "input"], output: "a")], "a", "different ranks"),
    ([GraphNodeSpec(layer: LayerSpec(type: "global_avgpool"), inputs: ["input"], output: "p"),
      GraphNodeSpec(op: "concat", inputs: ["p", "input"], output: "a")], "a", "cannot concatenate"),
    ([GraphNodeSpec(op: "sub", inputs: ["input", "input"], output: "a")], "b", "not a value the nodes compute"),
    ([GraphNodeSpec(op: "sub", layer: LayerSpec(type: "relu"), inputs: ["input"], output: "a")], "a", "only op 'layer'"),
    ([], "input", "has no nodes"),
  ])
  func malformed(nodes: [GraphNodeSpec], output: String, message: String) throws {
    let g = try Self.graph(constants: [.init(name: "k", shape: [2, 1, 1])], nodes, output: output)
    let spec = ModelSpec(input: [2, 4, 4], classes: 2, layers: [g, LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    #expect {
      _ = try Model(spec: spec, seed: 0, source: "bad.json")
    } throws: { error in
      "\(error)".contains(message) && "\(error)".contains("bad.json")
    }
  }

  @Test("constants with too many axes for their partner are refused")
  func constantRank() throws {
    let g = try Self.graph(constants: [.init(name: "k", shape: [1, 2, 4, 4])],
                           [GraphNodeSpec(op: "mul", inputs: ["input", "k"], output: "a")], output: "a")
    let spec = ModelSpec(input: [2, 4, 4], classes: 2, layers: [g, LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    #expect(throws: ModelSpecError.self) { _ = try Model(spec: spec, seed: 0) }
  }

  @Test("max pooling's tie tolerance is read from the spec and range-checked")
  func tieTolerance() throws {
    func spec(_ tolerance: Float?) throws -> ModelSpec {
      var pool = LayerSpec(type: "maxpool2d", kernel: 2)
      try pool.setOption("tie_tolerance", tolerance)
      return ModelSpec(input: [1, 4, 4], classes: 2, layers: [pool, LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    }
    #expect(try (Model(spec: spec(nil), seed: 0).network.layers[0].layer as? MaxPool2D)?.tieTolerance == MaxPoolTies.exact)
    #expect(try (Model(spec: spec(0x1p-17), seed: 0).network.layers[0].layer as? MaxPool2D)?.tieTolerance == MaxPoolTies.stable)
    #expect(try (Model(spec: spec(0), seed: 0).network.layers[0].layer as? MaxPool2D)?.tieTolerance == MaxPoolTies.exact)
    #expect(throws: ModelSpecError.self) { _ = try Model(spec: spec(0.5), seed: 0) }
    #expect(throws: ModelSpecError.self) { _ = try Model(spec: spec(-1), seed: 0) }
  }
}
