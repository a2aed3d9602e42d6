import PixelTensor

/// A directed acyclic graph of named values: layers with one input, elementwise combinations
/// of two values and channel concatenations, in topological order.
///
/// This is how networks that are not a chain — DenseNet's concatenations, ResNets exported by
/// `torch.onnx.export`, anything imported — run in the engine. Value `"input"` is the graph's
/// input; constants are buffers (saved in checkpoints like batch-norm statistics) and broadcast
/// right-aligned against per-example shapes, so they never stretch the batch axis. Every value
/// is released after its last use, so a deep graph holds only the activations still needed (and
/// what the autodiff tape keeps for the backward pass).
public final class Graph: Layer {
  /// What one node computes.
  public enum Operation: Equatable, Sendable {
    /// The layer at this index of ``layers``, applied to the single input.
    case layer(Int)
    case add, subtract, multiply, divide
    /// Concatenation along this per-example axis (0 is channels for images).
    case concatenate(axis: Int)
  }

  /// One node: the operation and the slots it reads and writes (see ``Graph/init``).
  public struct Node: Sendable {
    public let operation: Operation
    public let inputs: [Int]
    public let output: Int
    /// Slots whose value is not needed after this node.
    let releases: [Int]
  }

  public var mode: Mode = .training
  /// Whether every layer is (constants broadcast per example, so the other operations are).
  public var isSamplewise: Bool { layers.allSatisfy { $0.layer.isSamplewise } }
  /// The graph's layers with their member names.
  public let layers: [(name: String, layer: any Layer)]
  /// The constants with their member names; constant `i` lives in slot `1 + i`.
  public let constants: [(name: String, buffer: Buffer)]
  public let nodes: [Node]
  let slotCount: Int
  let outputSlot: Int

  /// A graph over `slotCount` slots: slot 0 holds the input, slots `1...constants.count` the
  /// constants, and every node writes one fresh slot after all the slots it reads were written.
  /// - Precondition: the order is topological and the output slot is written (the spec builder
  ///   checks both and reports violations as errors).
  public init(layers: [(name: String, layer: any Layer)], constants: [(name: String, buffer: Buffer)],
              nodes: [(operation: Operation, inputs: [Int], output: Int)], slotCount: Int, output: Int) {
    var lastUse = [Int](repeating: -1, count: slotCount)
    for (i, n) in nodes.enumerated() { for s in n.inputs { lastUse[s] = i } }
    lastUse[output] = nodes.count
    self.nodes = nodes.enumerated().map { i, n in
      Node(operation: n.operation, inputs: n.inputs, output: n.output,
           releases: Set(n.inputs).filter { lastUse[$0] == i && $0 > constants.count }.sorted())
    }
    self.layers = layers
    self.constants = constants
    self.slotCount = slotCount
    outputSlot = output
  }

  public var members: [ModuleMember] {
    layers.map { .module($0.name, $0.layer) } + constants.map { .buffer($0.name, $0.buffer) }
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    var values = [Tensor?](repeating: nil, count: slotCount)
    values[0] = x
    for (i, c) in constants.enumerated() { values[1 + i] = c.buffer.value }
    for node in nodes {
      let a = values[node.inputs[0]]!
      let y: Tensor
      switch node.operation {
      case .layer(let index): y = layers[index].layer(a)
      case .add: y = a + values[node.inputs[1]]!
      case .subtract: y = a - values[node.inputs[1]]!
      case .multiply: y = a * values[node.inputs[1]]!
      case .divide: y = a / values[node.inputs[1]]!
      case .concatenate(let axis): y = Tensor.concatenate(node.inputs.map { values[$0]! }, alongAxis: axis + 1)
      }
      for s in node.releases { values[s] = nil }
      values[node.output] = y
    }
    return values[outputSlot]!
  }
}
