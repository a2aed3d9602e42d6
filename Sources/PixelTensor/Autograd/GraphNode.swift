import Synchronization

/// One recorded operation: the primitive, its inputs' nodes and what its VJP reads.
///
/// Creation order is a topological order, so `id` alone orders the reverse pass. Backward
/// operations recorded with `createGraph: true` simply get higher ids, which is why nesting
/// (double backprop) needs nothing special.
@usableFromInline
final class GraphNode: @unchecked Sendable {
  private static let counter = Atomic<Int>(0)

  let id: Int
  let primitive: Primitive
  /// One entry per input; `nil` for a constant input.
  private(set) var parents: [GraphNode?]
  let inputShapes: [Shape]
  /// The inputs themselves (values and nodes) when the VJP reads them, else empty.
  private(set) var savedInputs: [Tensor]
  /// The output values when the VJP reads them (exp, tanh, sqrt, reciprocal).
  let savedOutput: TensorStorage?
  let outputShape: Shape

  /// A leaf: gradients stop here.
  init(leafWithShape shape: Shape) {
    id = GraphNode.counter.wrappingAdd(1, ordering: .relaxed).newValue
    primitive = .leaf
    parents = []
    inputShapes = []
    savedInputs = []
    savedOutput = nil
    outputShape = shape
  }

  init(primitive: Primitive, inputs: [Tensor], output: TensorStorage, outputShape: Shape) {
    id = GraphNode.counter.wrappingAdd(1, ordering: .relaxed).newValue
    self.primitive = primitive
    parents = inputs.map(\.node)
    inputShapes = inputs.map(\.shape)
    savedInputs = primitive.readsInputs ? inputs : []
    savedOutput = primitive.readsOutput ? output : nil
    self.outputShape = outputShape
  }

  var isLeaf: Bool { if case .leaf = primitive { return true } else { return false } }

  /// Input `i` as saved for the VJP (differentiable when recorded with a node).
  func input(_ i: Int) -> Tensor { savedInputs[i] }

  /// The output as a tensor attached to this node, so VJPs that read it stay differentiable.
  var output: Tensor { Tensor(shape: outputShape, storage: savedOutput!, node: self) }

  /// Tears a long chain down iteratively: ARC's recursive release of a 100,000-node chain
  /// would overflow the stack. Uniquely held ancestors are unlinked here, one at a time.
  deinit {
    guard !parents.isEmpty || !savedInputs.isEmpty else { return }
    var pending: [GraphNode] = parents.compactMap { $0 } + savedInputs.compactMap(\.node)
    parents = []
    savedInputs = []
    while var n = pending.popLast() {
      if isKnownUniquelyReferenced(&n) {
        pending.append(contentsOf: n.parents.compactMap { $0 })
        pending.append(contentsOf: n.savedInputs.compactMap(\.node))
        n.parents = []
        n.savedInputs = []
      }
    }
  }
}
