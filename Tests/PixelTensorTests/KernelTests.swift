import Testing
import _TestSupport
@testable import PixelTensor

/// Raw kernels against naive loops on odd shapes, and the adjoint identities.
@Suite("Kernels against naive loops")
struct KernelTests {
  static func naiveMatmul(_ a: [Float], _ b: [Float], m: Int, k: Int, n: Int, tA: Bool, tB: Bool) -> [Float] {
    var c = [Float](repeating: 0, count: m * n)
    for i in 0..<m { for j in 0..<n {
      var acc: Double = 0
      for p in 0..<k {
        let av = tA ? a[p * m + i] : a[i * k + p]
        let bv = tB ? b[j * k + p] : b[p * n + j]
        acc += Double(av) * Double(bv)
      }
      c[i * n + j] = Float(acc)
    } }
    return c
  }

  struct GEMMCase: Sendable, CustomTestStringConvertible {
    let m: Int, k: Int, n: Int, tA: Bool, tB: Bool
    var testDescription: String { "\(m)x\(k)x\(n) tA=\(tA) tB=\(tB)" }
  }
  static let gemmCases: [GEMMCase] = [(7, 5, 3), (1, 9, 1), (160, 200, 130), (33, 400, 257)].flatMap { s in
    [(false, false), (true, false), (false, true), (true, true)].map { GEMMCase(m: s.0, k: s.1, n: s.2, tA: $0.0, tB: $0.1) }
  }

  @Test("matmul matches a naive triple loop (all transpositions; large ones split across cores)", arguments: gemmCases)
  func gemm(_ c: GEMMCase) {
    var rng = SeededGenerator(seed: 1)
    let a = Tensor.normal(c.tA ? [c.k, c.m] : [c.m, c.k], using: &rng)
    let b = Tensor.normal(c.tB ? [c.n, c.k] : [c.k, c.n], using: &rng)
    let y = matmul(a, b, transposeA: c.tA, transposeB: c.tB)
    let reference = Tensor(Self.naiveMatmul(a.scalars, b.scalars, m: c.m, k: c.k, n: c.n, tA: c.tA, tB: c.tB), shape: [c.m, c.n])
    #expect(y.shape == [c.m, c.n])
    #expect(relativeError(y, reference) < 1e-5)
  }

  static let geometries: [ConvGeometry] = [
    ConvGeometry(input: [2, 3, 7, 6], kernel: (3, 3), stride: (2, 2), padding: (1, 1)),
    ConvGeometry(input: [1, 2, 5, 9], kernel: (2, 4), stride: (1, 3), padding: (0, 2)),
    ConvGeometry(input: [3, 1, 8, 8], kernel: (3, 3), stride: (1, 1), padding: (2, 1), dilation: (2, 3)),
    ConvGeometry(input: [2, 4, 6, 6], kernel: (1, 1), stride: (2, 2)),
    // Rows of 11, 16 and 28 floats: the vector copies with and without an overlapping tail.
    ConvGeometry(input: [3, 2, 13, 13], kernel: (3, 3)),
    ConvGeometry(input: [2, 2, 5, 18], kernel: (2, 3)),
    ConvGeometry(input: [2, 3, 6, 28], kernel: (3, 3), padding: (1, 1)),
    // Kernel columns that read only padding, and strided columns that skip the image entirely.
    ConvGeometry(input: [2, 2, 3, 1], kernel: (1, 3), stride: (1, 4), padding: (0, 3)),
    ConvGeometry(input: [1, 2, 4, 9], kernel: (3, 3), stride: (2, 3), padding: (1, 4)),
  ]

  static func naiveIm2Col(_ x: [Float], _ g: ConvGeometry) -> [Float] {
    var out = [Float](repeating: 0, count: g.patchSize * g.patchCount)
    for c in 0..<g.channels { for ki in 0..<g.kernelHeight { for kj in 0..<g.kernelWidth {
      let row = (c * g.kernelHeight + ki) * g.kernelWidth + kj
      for n in 0..<g.batch { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
        let iy = oy * g.strideY - g.paddingY + ki * g.dilationY
        let ix = ox * g.strideX - g.paddingX + kj * g.dilationX
        let col = (n * g.outHeight + oy) * g.outWidth + ox
        if iy >= 0, iy < g.height, ix >= 0, ix < g.width {
          out[row * g.patchCount + col] = x[((n * g.channels + c) * g.height + iy) * g.width + ix]
        }
      } } }
    } } }
    return out
  }

  @Test("im2col matches naive loops, and ⟨im2col(x), y⟩ = ⟨x, col2im(y)⟩", arguments: geometries)
  func im2colAdjoint(_ g: ConvGeometry) {
    var rng = SeededGenerator(seed: 2)
    let x = Tensor.normal(g.inputShape, using: &rng)
    let y = Tensor.normal(g.columnShape, using: &rng)
    let cols = x.im2col(g)
    #expect(cols.scalars == Self.naiveIm2Col(x.scalars, g))
    let lhs = dot(cols, y), rhs = dot(x, y.col2im(g))
    #expect(Swift.abs(lhs - rhs) <= 1e-9 * Swift.max(1, Swift.abs(lhs)) * 1e4)
  }

  @Test("gather and scatter-add are adjoint, with repeated indices")
  func gatherScatterAdjoint() {
    var rng = SeededGenerator(seed: 3)
    let x = Tensor.normal([4, 5], using: &rng)
    let idx = IndexBuffer([0, 19, 7, 7, 3, 19, 12])
    let y = Tensor.normal([7], using: &rng)
    #expect(x.gathering(idx, shape: [7]).scalars == idx.indices.map { x.scalars[$0] })
    #expect(Swift.abs(dot(x.gathering(idx, shape: [7]), y) - dot(x, y.scatteringAdd(idx, into: [4, 5]))) < 1e-5)
    var expected = [Float](repeating: 0, count: 20)
    for (i, j) in idx.indices.enumerated() { expected[j] += y.scalars[i] }
    #expect(y.scatteringAdd(idx, into: [4, 5]).scalars == expected)
  }

  @Test("blocked indices (max pooling's, one block a plane) gather and scatter like unblocked ones, on all cores")
  func blockedGatherScatter() {
    var rng = SeededGenerator(seed: 4)
    // 96 planes of 24×24: large enough for the parallel path.
    let x = Tensor.normal([8, 12, 24, 24], using: &rng).requiringGradient()
    let pooled = maxPool2D(x, kernel: 2)
    guard case .gather(let blocked)? = pooled.node?.primitive else {
      Issue.record("max pooling did not record a gather")
      return
    }
    #expect(blocked.blocks == 96)
    let flat = IndexBuffer(blocked.indices)
    let g = Tensor.normal(pooled.shape, using: &rng)
    #expect(g.scatteringAdd(blocked, into: x.shape).scalars == g.scatteringAdd(flat, into: x.shape).scalars)
    #expect(x.gathering(blocked, shape: pooled.shape).scalars == pooled.scalars)
  }

  @Test("a reduction onto the channels (a bias gradient) matches a double-precision sum",
        arguments: [[64, 8, 32, 32], [5, 3, 4, 5], [4, 3, 2, 3]])
  func parallelChannelSum(_ dims: [Int]) {
    // Planes of 1024 and of 20 floats (eight-lane vectors and a tail) take the channel kernel;
    // planes of 6 the strided accumulator.
    var rng = SeededGenerator(seed: 5)
    let x = Tensor.normal(Shape(dims), using: &rng)
    let c = dims[1], plane = dims[2] * dims[3]
    let s = x.sum(toShape: [1, c, 1, 1])
    var expected = [Double](repeating: 0, count: c)
    for (i, v) in x.scalars.enumerated() { expected[(i / plane) % c] += Double(v) }
    for k in 0..<c { #expect(Swift.abs(Double(s.scalars[k]) - expected[k]) < 1e-5 * Double(x.elementCount).squareRoot()) }
  }

  @Test("permute matches index arithmetic")
  func permute() {
    let x = Tensor.arange(0, 120).reshaped(to: [2, 3, 4, 5])
    let y = x.permuted([3, 1, 0, 2])
    #expect(y.shape == [5, 3, 2, 4])
    for a in 0..<5 { for b in 0..<3 { for c in 0..<2 { for d in 0..<4 {
      #expect(y.scalars[((a * 3 + b) * 2 + c) * 4 + d] == x.scalars[((c * 3 + b) * 4 + d) * 5 + a])
    } } } }
  }

  @Test("broadcast then sum-to-shape multiplies by the stretch factor")
  func broadcastSum() {
    let x = Tensor([1, 2, 3], shape: [3, 1])
    let b = x.broadcast(to: [2, 3, 4])
    #expect(b.scalars == [Float]([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]))
    #expect(b.sum(toShape: [3, 1]).scalars == [8, 16, 24])
    #expect(Tensor.arange(0, 24).reshaped(to: [2, 3, 4]).sum(toShape: [4]).scalars == [60, 66, 72, 78])
  }

  @Test("long contiguous sums are exact for integers and accurate for random values")
  func longSum() {
    let x = Tensor.arange(0, 5_003)
    #expect(Double(x.sum().item) == 5_002.0 * 5_003.0 / 2)
    var rng = SeededGenerator(seed: 9)
    let r = Tensor.normal([1 << 18], using: &rng)
    let reference = r.scalars.reduce(0.0) { $0 + Double($1) }
    // A blocked float sum of n standard normals errs by about √n·ε·(typical partial sum) ≪ 0.05.
    #expect(Swift.abs(Double(r.sum().item) - reference) < 0.05)
  }

  @Test("pad and slice invert each other; concatenate places blocks")
  func padSliceConcatenate() {
    let x = Tensor.arange(1, 7).reshaped(to: [2, 3])
    let p = x.padded([Padding(1, 0), Padding(0, 2)])
    #expect(p.shape == [3, 5])
    #expect(p.scalars == [0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 4, 5, 6, 0, 0])
    #expect(p.slice(starts: [1, 0], shape: [2, 3]).scalars == x.scalars)
    let c = Tensor.concatenate([x, Tensor.full(9, shape: [2, 1])], alongAxis: 1)
    #expect(c.scalars == [1, 2, 3, 9, 4, 5, 6, 9])
  }

  func dot(_ a: Tensor, _ b: Tensor) -> Double {
    zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) }
  }
}

@Suite("Batch norm's one-pass sums")
struct ChannelSumsAndDotTests {
  @Test("Σg and Σg·x in one pass have the bits of channelSums and channelDot (tails, narrow planes, recorded)",
        arguments: [[3, 4, 8, 8], [2, 3, 3, 3], [5, 2, 13], [4, 3, 2, 2], [6, 3]])
  func sameBits(_ dims: [Int]) {
    var rng = SeededGenerator(seed: 41)
    let g = Tensor.normal(Shape(dims), using: &rng), x = Tensor.normal(Shape(dims), mean: 0.5, using: &rng)
    let (sums, dots) = g.channelSumsAndDot(x)
    #expect(sums.scalars.map(\.bitPattern) == g.channelSums().scalars.map(\.bitPattern))
    #expect(dots.scalars.map(\.bitPattern) == g.channelDot(x).scalars.map(\.bitPattern))
    // Recorded, the two primitives: derivatives flow through both.
    let probe = g.requiringGradient()
    let (s, d) = probe.channelSumsAndDot(x)
    let dg = gradients(of: (s * s).sum() + d.sum(), wrt: [probe])[0]
    #expect(dg.scalars.contains { $0 != 0 })
  }
}
