import Testing
@testable import PixelTensor

@Suite("Autodiff graph: recording, pruning, lifetime")
struct GraphTests {
  @Test("constants carry no graph; grad mode off records nothing")
  func recording() {
    let a = Tensor([1, 2], shape: [2]), b = a.requiringGradient()
    #expect(!(a * a).requiresGradient)
    #expect((b * a).requiresGradient)
    #expect(!withoutGradients { b * a }.requiresGradient)
    #expect(withoutGradients { withGradients { b * a } }.requiresGradient)
    let g = gradients(of: (b * b).sum(), wrt: [b])[0]
    #expect(!g.requiresGradient)
    #expect(g.scalars == [2, 4])
    let g2 = gradients(of: (b * b * b).sum(), wrt: [b], createGraph: true)[0]
    #expect(g2.requiresGradient)
    #expect(gradients(of: g2.sum(), wrt: [b])[0].scalars == [6, 12])
  }

  @Test("targets the output does not depend on get zeros")
  func unrelatedTargets() {
    let a = Tensor([1, 2], shape: [2]).requiringGradient()
    let c = Tensor([3, 4], shape: [2]).requiringGradient()
    let g = gradients(of: (a * a).sum(), wrt: [c, a, Tensor.ones([2])])
    #expect(g[0].scalars == [0, 0])
    #expect(g[1].scalars == [2, 4])
    #expect(g[2].scalars == [0, 0])
  }

  @Test("a tensor used twice accumulates both cotangents")
  func fanOut() {
    let a = Tensor([3], shape: [1]).requiringGradient()
    let y = (a * a + a.exp() + a).sum()
    #expect(Swift.abs(gradients(of: y, wrt: [a])[0].item - (6 + Float(20.085537) + 1)) < 1e-4)
  }

  /// Graphs whose VJPs hand one cotangent buffer to several parents (a sum's VJP passes its
  /// cotangent on to both inputs), so a sum grown in place would corrupt its sharers.
  static let sharedCotangents: [(name: String, f: @Sendable (Tensor, Tensor) -> Tensor, dx: [Float], dy: [Float])] = [
    ("(x + y) + y", { x, y in ((x + y) + y).sum() }, [1, 1], [2, 2]),
    ("x + x", { x, _ in (x + x).sum() }, [2, 2], [0, 0]),
    ("(x + y) + (x + y)", { x, y in let s = x + y; return (s + s).sum() }, [2, 2], [2, 2]),
    ("((x + y) + x) + y", { x, y in (((x + y) + x) + y).sum() }, [2, 2], [2, 2]),
    ("x·y + x + y", { x, y in (x * y + x + y).sum() }, [4, 5], [3, 4]),
  ]

  @Test("summed cotangents: right when buffers are shared, and the bits of the recorded sums",
        arguments: sharedCotangents.indices)
  func summedCotangents(_ i: Int) {
    let c = Self.sharedCotangents[i]
    let x = Tensor([2, 3], shape: [2]).requiringGradient(), y = Tensor([3, 4], shape: [2]).requiringGradient()
    let g = gradients(of: withGradients { c.f(x, y) }, wrt: [x, y])
    #expect(g[0].scalars == c.dx, "\(c.name)")
    #expect(g[1].scalars == c.dy, "\(c.name)")
    var rng = SeededGenerator(seed: 8)
    let a = Tensor.normal([3, 5], using: &rng).requiringGradient(), b = Tensor.normal([3, 5], using: &rng).requiringGradient()
    let loss = withGradients { (c.f(a.tanh(), b.exp()) + c.f(a * b, b)).sum() }
    let plain = gradients(of: loss, wrt: [a, b]), recorded = gradients(of: loss, wrt: [a, b], createGraph: true)
    for k in 0..<2 { #expect(plain[k].scalars.map(\.bitPattern) == recorded[k].scalars.map(\.bitPattern), "\(c.name)") }
  }

  @Test("an input-only gradient skips every weight-gradient GEMM (pruning)")
  func pruning() {
    var rng = SeededGenerator(seed: 4)
    let w1 = Tensor.normal([4, 1, 3, 3], using: &rng).requiringGradient()
    let w2 = Tensor.normal([10, 4 * 6 * 6], using: &rng).requiringGradient()
    let x = Tensor.uniform([2, 1, 8, 8], using: &rng).requiringGradient()
    let (grads, trace) = BackwardTrace.recording {
      let h = conv2D(x, weight: w1, stride: 1).relu().flattenedBatch()
      return gradients(of: crossEntropy(logits: linear(h, weight: w2), labels: [1, 2]), wrt: [x])
    }
    #expect(grads[0].shape == x.shape)
    let matmuls = trace.filter { $0.primitive == "matmul" }, convs = trace.filter { $0.primitive == "convolution" }
    #expect(matmuls.count == 1 && convs.count == 1)
    // linear: h·W2ᵀ needs only ∂/∂h; the convolution only ∂/∂x (no weight-gradient pass).
    #expect(matmuls[0].computed == [true, false])
    #expect(convs[0].computed == [true, false])
    let (_, full) = BackwardTrace.recording {
      let h = conv2D(x, weight: w1, stride: 1).relu().flattenedBatch()
      return gradients(of: crossEntropy(logits: linear(h, weight: w2), labels: [1, 2]), wrt: [x, w1, w2])
    }
    #expect(full.filter { $0.primitive == "matmul" || $0.primitive == "convolution" }.allSatisfy { $0.computed == [true, true] })
  }

  @Test("a 1,000-step attack-style loop that detaches each iterate frees its graphs")
  func detachedLoopDoesNotGrow() {
    var rng = SeededGenerator(seed: 5)
    let w = Tensor.normal([10, 16], using: &rng)
    let start = Tensor.uniform([4, 16], using: &rng)
    var x = start
    weak var firstNode: GraphNode?
    for step in 0..<1000 {
      let probe = x.detached().requiringGradient()
      if step == 0 { firstNode = probe.node }
      let loss = crossEntropy(logits: linear(probe.tanh(), weight: w), labels: [0, 1, 2, 3])
      let g = gradients(of: loss, wrt: [probe])[0]
      x = withoutGradients { (probe.detached() + g.sign() * 0.001).clamped(to: 0...1) }
    }
    #expect(firstNode == nil, "the first step's graph is still alive")
    #expect(x.scalars != start.scalars, "the loop never moved the iterate")
  }

  @Test("a 200,000-node chain is differentiated and released without recursion")
  func longChain() {
    let a = Tensor([0.5], shape: [1]).requiringGradient()
    var y = a
    for _ in 0..<200_000 { y = y * 1.0 }
    #expect(gradients(of: y.sum(), wrt: [a])[0].item == 1)
    y = Tensor(0)  // drops the chain: must not overflow the stack
    #expect(!y.requiresGradient)
  }

  @Test("mutation copies shared storage and cuts the graph link")
  func copyOnWrite() {
    let a = Tensor([1, 2, 3], shape: [3]).requiringGradient()
    var b = a
    b.withUnsafeMutableBufferPointer { $0[0] = 10 }
    #expect(a.scalars == [1, 2, 3])
    #expect(b.scalars == [10, 2, 3])
    #expect(!b.requiresGradient)
  }
}
