/// Reverse-mode gradients of the scalar `y` with respect to each of `xs`.
///
/// The reverse pass visits only nodes that lie on a path from `y` to a target and asks each
/// VJP only for the cotangents that lead to a target.
///
/// - Parameters:
///   - createGraph: Record the backward pass so that the returned gradients can be
///     differentiated again (double backprop, Hessian-vector products). Defaults to `false`,
///     which returns constants and costs no graph memory.
/// - Returns: One tensor per target, shaped like the target. A target that `y` does not
///   depend on (or that is a constant) gets zeros.
/// - Precondition: `y` has exactly one element.
public func gradients(of y: Tensor, wrt xs: [Tensor], createGraph: Bool = false) -> [Tensor] {
  precondition(y.elementCount == 1, "gradients(of:) needs a scalar, got shape \(y.shape); "
               + "use vectorJacobianProducts(of:wrt:cotangent:) for a vector output")
  return vectorJacobianProducts(of: y, wrt: xs, cotangent: .ones(y.shape), createGraph: createGraph)
}

/// The vector–Jacobian products `cotangentᵀ · ∂y/∂x` for each target `x`.
///
/// - Precondition: `cotangent.shape == y.shape`.
public func vectorJacobianProducts(of y: Tensor, wrt xs: [Tensor], cotangent: Tensor,
                                   createGraph: Bool = false) -> [Tensor] {
  precondition(cotangent.shape == y.shape, "cotangent \(cotangent.shape) != output \(y.shape)")
  guard let root = y.node else { return xs.map { .zeros($0.shape) } }
  let targets = Set(xs.compactMap { $0.node.map(ObjectIdentifier.init) })
  if targets.isEmpty { return xs.map { .zeros($0.shape) } }

  // Iterative DFS: no recursion, so graph depth is bounded only by memory.
  var visited: Set<ObjectIdentifier> = [ObjectIdentifier(root)]
  var order: [GraphNode] = []
  var stack: [GraphNode] = [root]
  while let n = stack.popLast() {
    order.append(n)
    for case let p? in n.parents where visited.insert(ObjectIdentifier(p)).inserted {
      stack.append(p)
    }
  }
  // Ascending id is a topological order (inputs are created before outputs).
  order.sort { $0.id < $1.id }
  var leads = Set<ObjectIdentifier>()
  for n in order {
    let key = ObjectIdentifier(n)
    if targets.contains(key) || n.parents.contains(where: { $0.map { leads.contains(ObjectIdentifier($0)) } ?? false }) {
      leads.insert(key)
    }
  }

  var cotangents: [ObjectIdentifier: Tensor] = [ObjectIdentifier(root): cotangent]
  let trace = BackwardTrace.current
  GradMode.$isEnabled.withValue(createGraph) {
    for n in order.reversed() {
      let key = ObjectIdentifier(n)
      guard leads.contains(key), !n.isLeaf, let g = cotangents[key] else { continue }
      if !targets.contains(key) { cotangents[key] = nil }
      let needs = n.parents.map { $0.map { leads.contains(ObjectIdentifier($0)) } ?? false }
      guard needs.contains(true) else { continue }
      let inputGradients = n.vjp(g, needs: needs)
      trace?.append(.init(primitive: n.primitive.name, computed: inputGradients.map { $0 != nil }))
      for (i, parent) in n.parents.enumerated() {
        guard needs[i], let parent, let gi = inputGradients[i] else { continue }
        assert(gi.shape == n.inputShapes[i], "VJP of \(n.primitive) gave \(gi.shape) for input \(n.inputShapes[i])")
        let pk = ObjectIdentifier(parent)
        if let existing = cotangents[pk] { cotangents[pk] = existing + gi } else { cotangents[pk] = gi }
      }
    }
  }
  return xs.map { x in
    guard let node = x.node, let g = cotangents[ObjectIdentifier(node)] else { return .zeros(x.shape) }
    return g
  }
}

/// The value of `f(x)` and its gradient with respect to `x`.
///
/// `f` must return a scalar; `x` is made a fresh leaf first.
public func valueWithGradient(at x: Tensor, of f: (Tensor) -> Tensor) -> (value: Tensor, gradient: Tensor) {
  let leaf = x.detached().requiringGradient()
  let y = withGradients { f(leaf) }
  return (y.detached(), gradients(of: y, wrt: [leaf])[0])
}
