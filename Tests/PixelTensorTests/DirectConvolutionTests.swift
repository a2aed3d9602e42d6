import CKernels
import Testing
import _TestSupport
@testable import PixelTensor

/// The direct convolution and the row GEMM: values against double-precision loops, the AVX-512,
/// AVX2 and portable paths bit for bit, and results that do not depend on where an example sits.
@Suite("Direct convolution and row GEMM")
struct DirectConvolutionTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let g: ConvGeometry, outChannels: Int
    var testDescription: String {
      "\(g.inputShape) k\(g.kernelHeight)x\(g.kernelWidth) s\(g.strideY),\(g.strideX) p\(g.paddingY),\(g.paddingX) "
        + "d\(g.dilationY),\(g.dilationX) → \(outChannels)"
    }
  }

  static let cases: [Case] = [
    Case(g: ConvGeometry(input: [2, 3, 32, 32], kernel: (3, 3), padding: (1, 1)), outChannels: 16),
    Case(g: ConvGeometry(input: [3, 5, 8, 8], kernel: (3, 3), padding: (1, 1)), outChannels: 7),
    Case(g: ConvGeometry(input: [2, 4, 16, 16], kernel: (3, 3), stride: (2, 2), padding: (1, 1)), outChannels: 9),
    Case(g: ConvGeometry(input: [2, 4, 9, 11], kernel: (1, 1), stride: (2, 2)), outChannels: 6),
    Case(g: ConvGeometry(input: [1, 1, 28, 28], kernel: (3, 3)), outChannels: 5),
    Case(g: ConvGeometry(input: [2, 2, 13, 13], kernel: (3, 3)), outChannels: 3),
    Case(g: ConvGeometry(input: [2, 2, 10, 12], kernel: (5, 5), stride: (3, 3), padding: (2, 2)), outChannels: 4),
    Case(g: ConvGeometry(input: [1, 3, 12, 9], kernel: (3, 3), padding: (2, 2), dilation: (2, 2)), outChannels: 2),
    Case(g: ConvGeometry(input: [1, 2, 7, 20], kernel: (2, 4), padding: (1, 3)), outChannels: 1),
    // Rows of three 16-lane vectors, the last with 5 live lanes, and a column stride of 2 in the
    // strided input gradient's phases.
    Case(g: ConvGeometry(input: [1, 3, 5, 37], kernel: (3, 3), padding: (1, 1)), outChannels: 10),
    Case(g: ConvGeometry(input: [1, 2, 6, 70], kernel: (3, 3), stride: (2, 2), padding: (1, 1)), outChannels: 5),
    // Rows of at most 8 outputs, two per vector, with an odd last row; rows of exactly 8 (rows of
    // eight in the buffer) with an odd last row and with dilated, shifted columns.
    Case(g: ConvGeometry(input: [2, 3, 7, 7], kernel: (3, 3), padding: (1, 1)), outChannels: 12),
    Case(g: ConvGeometry(input: [2, 3, 5, 8], kernel: (3, 3), padding: (1, 1)), outChannels: 6),
    Case(g: ConvGeometry(input: [1, 2, 9, 8], kernel: (3, 3), padding: (2, 2), dilation: (2, 2)), outChannels: 5),
    Case(g: ConvGeometry(input: [2, 2, 6, 10], kernel: (2, 3), padding: (0, 0)), outChannels: 4),
    // Padding past the kernel's reach, a stride past the kernel (phases no tap reaches), and
    // unequal strides (which fall back to im2col).
    Case(g: ConvGeometry(input: [2, 2, 3, 5], kernel: (1, 3), stride: (1, 1), padding: (0, 3)), outChannels: 3),
    Case(g: ConvGeometry(input: [2, 3, 11, 10], kernel: (2, 2), stride: (3, 3), padding: (1, 1)), outChannels: 4),
    Case(g: ConvGeometry(input: [1, 2, 9, 9], kernel: (3, 3), stride: (2, 2), padding: (3, 3), dilation: (2, 2)),
         outChannels: 3),
    Case(g: ConvGeometry(input: [1, 2, 4, 9], kernel: (3, 3), stride: (2, 3), padding: (1, 2)), outChannels: 5),
  ]

  /// `y[n, o, oy, ox] = b[o] + Σ w·x` in double precision.
  static func naiveForward(_ x: [Float], _ w: [Float], _ b: [Float], _ g: ConvGeometry, _ o: Int) -> [Float] {
    var y = [Float](repeating: 0, count: g.batch * o * g.outHeight * g.outWidth)
    for n in 0..<g.batch { for oc in 0..<o { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
      var acc = Double(b[oc])
      for c in 0..<g.channels { for ki in 0..<g.kernelHeight { for kj in 0..<g.kernelWidth {
        let iy = oy * g.strideY - g.paddingY + ki * g.dilationY, ix = ox * g.strideX - g.paddingX + kj * g.dilationX
        guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
        acc += Double(w[((oc * g.channels + c) * g.kernelHeight + ki) * g.kernelWidth + kj])
          * Double(x[((n * g.channels + c) * g.height + iy) * g.width + ix])
      } } }
      y[((n * o + oc) * g.outHeight + oy) * g.outWidth + ox] = Float(acc)
    } } } }
    return y
  }

  /// The adjoint of ``naiveForward`` in `x` (no bias), in double precision.
  static func naiveInputGradient(_ gy: [Float], _ w: [Float], _ g: ConvGeometry, _ o: Int) -> [Float] {
    var dx = [Double](repeating: 0, count: g.inputShape.elementCount)
    for n in 0..<g.batch { for oc in 0..<o { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
      let v = Double(gy[((n * o + oc) * g.outHeight + oy) * g.outWidth + ox])
      for c in 0..<g.channels { for ki in 0..<g.kernelHeight { for kj in 0..<g.kernelWidth {
        let iy = oy * g.strideY - g.paddingY + ki * g.dilationY, ix = ox * g.strideX - g.paddingX + kj * g.dilationX
        guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
        dx[((n * g.channels + c) * g.height + iy) * g.width + ix] +=
          v * Double(w[((oc * g.channels + c) * g.kernelHeight + ki) * g.kernelWidth + kj])
      } } }
    } } } }
    return dx.map { Float($0) }
  }

  static func forward(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ g: ConvGeometry, _ o: Int, path: PRKernelPath) -> [Float] {
    var y = [Float](repeating: .nan, count: g.batch * o * g.outHeight * g.outWidth)
    y.withUnsafeMutableBufferPointer { yp in
      if DirectConvolution.handles(g) {
        DirectConvolution.forward(g, x: x.storage.base, w: w.storage.base, outChannels: o, bias: b.storage.base,
                                  y: yp.baseAddress!, epilogue: nil, kernelPath: path)
      } else {
        ConvolutionKernels.forward(g, x: x.storage.base, w: w.storage.base, outChannels: o, bias: b.storage.base,
                                   y: yp.baseAddress!)
      }
    }
    return y
  }

  /// `dW[o, c, ki, kj] = Σ gy·x` in double precision.
  static func naiveWeightGradient(_ x: [Float], _ gy: [Float], _ g: ConvGeometry, _ o: Int) -> [Float] {
    var dw = [Double](repeating: 0, count: o * g.patchSize)
    for n in 0..<g.batch { for oc in 0..<o { for oy in 0..<g.outHeight { for ox in 0..<g.outWidth {
      let v = Double(gy[((n * o + oc) * g.outHeight + oy) * g.outWidth + ox])
      for c in 0..<g.channels { for ki in 0..<g.kernelHeight { for kj in 0..<g.kernelWidth {
        let iy = oy * g.strideY - g.paddingY + ki * g.dilationY, ix = ox * g.strideX - g.paddingX + kj * g.dilationX
        guard iy >= 0, iy < g.height, ix >= 0, ix < g.width else { continue }
        dw[((oc * g.channels + c) * g.kernelHeight + ki) * g.kernelWidth + kj] +=
          v * Double(x[((n * g.channels + c) * g.height + iy) * g.width + ix])
      } } }
    } } } }
    return dw.map { Float($0) }
  }

  static func weightGradient(_ x: Tensor, _ gy: Tensor, _ g: ConvGeometry, _ o: Int, path: PRKernelPath) -> [Float] {
    var dw = [Float](repeating: .nan, count: o * g.patchSize)
    dw.withUnsafeMutableBufferPointer { dp in
      DirectConvolution.weightGradient(g, x: x.storage.base, gy: gy.storage.base, outChannels: o, dw: dp.baseAddress!,
                                       kernelPath: path)
    }
    return dw
  }

  static func inputGradient(_ gy: Tensor, _ w: Tensor, _ g: ConvGeometry, _ o: Int, path: PRKernelPath) -> [Float] {
    var dx = [Float](repeating: .nan, count: g.inputShape.elementCount)
    dx.withUnsafeMutableBufferPointer { dp in
      if DirectConvolution.handles(g) {
        DirectConvolution.inputGradient(g, gy: gy.storage.base, w: w.storage.base, outChannels: o, dx: dp.baseAddress!,
                                        kernelPath: path)
      } else {
        ConvolutionKernels.inputGradient(g, gy: gy.storage.base, w: w.storage.base, outChannels: o, dx: dp.baseAddress!)
      }
    }
    return dx
  }

  static func maxRelative(_ a: [Float], _ b: [Float]) -> Float {
    let scale = b.reduce(Float(0)) { Swift.max($0, Swift.abs($1)) }
    return zip(a, b).reduce(Float(0)) { Swift.max($0, Swift.abs($1.0 - $1.1)) } / Swift.max(scale, 1e-30)
  }

  @Test("forward and input gradient match double-precision loops; the AVX-512, AVX2 and portable paths agree bit for bit",
        arguments: cases)
  func values(_ c: Case) {
    var rng = SeededGenerator(seed: 11)
    let g = c.g, o = c.outChannels
    let x = Tensor.normal(g.inputShape, using: &rng)
    let w = Tensor.normal([o, g.channels, g.kernelHeight, g.kernelWidth], using: &rng)
    let b = Tensor.normal([o], using: &rng)
    let gy = Tensor.normal([g.batch, o, g.outHeight, g.outWidth], using: &rng)
    let fast = Self.forward(x, w, b, g, o, path: PRKernelPathAutomatic)
    #expect(Self.maxRelative(fast, Self.naiveForward(x.scalars, w.scalars, b.scalars, g, o)) < 1e-5)
    #expect(fast == Self.forward(x, w, b, g, o, path: PRKernelPathPortable))
    #expect(fast == Self.forward(x, w, b, g, o, path: PRKernelPathAVX2))
    let dx = Self.inputGradient(gy, w, g, o, path: PRKernelPathAutomatic)
    #expect(Self.maxRelative(dx, Self.naiveInputGradient(gy.scalars, w.scalars, g, o)) < 1e-5)
    #expect(dx == Self.inputGradient(gy, w, g, o, path: PRKernelPathPortable))
    #expect(dx == Self.inputGradient(gy, w, g, o, path: PRKernelPathAVX2))
  }

  @Test("the direct weight gradient matches double-precision loops; the AVX-512, AVX2 and portable paths agree bit for bit",
        arguments: cases.filter { DirectConvolution.handles($0.g) } + [
          // More samples than one chunk, so the lane chains continue across chunks (also strided).
          Case(g: ConvGeometry(input: [DirectConvolution.weightGradientChunk + 3, 2, 6, 9], kernel: (3, 3), padding: (1, 1)),
               outChannels: 5),
          Case(g: ConvGeometry(input: [DirectConvolution.weightGradientChunk + 3, 2, 6, 9], kernel: (3, 3), stride: (2, 2),
                               padding: (1, 1)), outChannels: 5),
          // Rows of eight from unpadded 10-wide rows.
          Case(g: ConvGeometry(input: [2, 3, 10, 10], kernel: (3, 3)), outChannels: 5),
        ])
  func weightGradient(_ c: Case) {
    var rng = SeededGenerator(seed: 13)
    let g = c.g, o = c.outChannels
    let x = Tensor.normal(g.inputShape, using: &rng)
    let gy = Tensor.normal([g.batch, o, g.outHeight, g.outWidth], using: &rng)
    let fast = Self.weightGradient(x, gy, g, o, path: PRKernelPathAutomatic)
    #expect(Self.maxRelative(fast, Self.naiveWeightGradient(x.scalars, gy.scalars, g, o)) < 1e-5)
    #expect(fast == Self.weightGradient(x, gy, g, o, path: PRKernelPathPortable))
    #expect(fast == Self.weightGradient(x, gy, g, o, path: PRKernelPathAVX2))
  }

  @Test("an image's convolution and input gradient have the same bits at any batch position and batch size",
        arguments: [cases[0], cases[2], cases[4]])
  func positionIndependence(_ c: Case) {
    var rng = SeededGenerator(seed: 12)
    let one = ConvGeometry(input: [1, c.g.channels, c.g.height, c.g.width],
                           kernel: (c.g.kernelHeight, c.g.kernelWidth), stride: (c.g.strideY, c.g.strideX),
                           padding: (c.g.paddingY, c.g.paddingX), dilation: (c.g.dilationY, c.g.dilationX))
    var seven = one
    seven.batch = 7
    let o = c.outChannels
    let x = Tensor.normal(one.inputShape, using: &rng), gy = Tensor.normal([1, o, one.outHeight, one.outWidth], using: &rng)
    let w = Tensor.normal([o, one.channels, one.kernelHeight, one.kernelWidth], using: &rng)
    let b = Tensor.normal([o], using: &rng)
    // The image at position 5 of 7, among other random images.
    let others = Tensor.normal(seven.inputShape, using: &rng).scalars, otherGy = Tensor.normal([7, o, one.outHeight, one.outWidth], using: &rng).scalars
    let image = one.inputShape.elementCount, plane = o * one.outHeight * one.outWidth
    var batchX = others, batchGy = otherGy
    batchX.replaceSubrange((5 * image)..<(6 * image), with: x.scalars)
    batchGy.replaceSubrange((5 * plane)..<(6 * plane), with: gy.scalars)
    let y1 = Self.forward(x, w, b, one, o, path: PRKernelPathAutomatic)
    let y7 = Self.forward(Tensor(batchX, shape: seven.inputShape), w, b, seven, o, path: PRKernelPathAutomatic)
    #expect(Array(y7[(5 * plane)..<(6 * plane)]) == y1)
    let dx1 = Self.inputGradient(gy, w, one, o, path: PRKernelPathAutomatic)
    let dx7 = Self.inputGradient(Tensor(batchGy, shape: [7, o, one.outHeight, one.outWidth]), w, seven, o,
                                 path: PRKernelPathAutomatic)
    #expect(Array(dx7[(5 * image)..<(6 * image)]) == dx1)
  }

  /// The planes `pr_prepare_planes` writes, from its definition: `dst[c, ry, rx, i, j] =
  /// padded[c, i·s + ry, j·s + rx]`, zeros elsewhere and in the slack.
  static func referencePlanes(_ src: [Float], channels: Int, height: Int, width: Int, top: Int, left: Int,
                              paddedHeight: Int, paddedWidth: Int, stride s: Int, count: Int) -> [Float] {
    let ph = (paddedHeight + s - 1) / s, pw = (paddedWidth + s - 1) / s
    var dst = [Float](repeating: 0, count: count)
    for c in 0..<channels {
      for y in 0..<height {
        for x in 0..<width {
          let py = top + y, px = left + x
          dst[((c * s + py % s) * s + px % s) * ph * pw + (py / s) * pw + px / s] = src[(c * height + y) * width + x]
        }
      }
    }
    return dst
  }

  @Test("prepared planes hold every input at its phase place and zeros elsewhere, fresh or reused",
        arguments: [1, 2, 3], [1, 2, 5, 15, 16, 17, 31, 32, 33, 34, 47, 70])
  func preparedPlanes(stride: Int, width: Int) {
    let channels = 2, height = 5
    for (top, left) in [(0, 0), (1, 1), (2, 3)] {
      let paddedHeight = height + 2 * top, paddedWidth = width + 2 * left
      let ph = (paddedHeight + stride - 1) / stride, pw = (paddedWidth + stride - 1) / stride
      let count = channels * stride * stride * ph * pw + 16
      let src = (0..<(channels * height * width)).map { Float($0 + 1) }
      let expected = Self.referencePlanes(src, channels: channels, height: height, width: width, top: top, left: left,
                                          paddedHeight: paddedHeight, paddedWidth: paddedWidth, stride: stride,
                                          count: count)
      var fresh = [Float](repeating: .nan, count: count)
      pr_prepare_planes(src, Int32(channels), Int32(height), Int32(width), Int32(top), Int32(left), Int32(paddedHeight),
                        Int32(paddedWidth), Int32(stride), &fresh, count, 0)
      #expect(fresh == expected, "top \(top) left \(left)")
      // Reused: a previous sample's planes, whose zeros stay where they are.
      var reused = Self.referencePlanes(src.map { -$0 }, channels: channels, height: height, width: width, top: top,
                                        left: left, paddedHeight: paddedHeight, paddedWidth: paddedWidth, stride: stride,
                                        count: count)
      pr_prepare_planes(src, Int32(channels), Int32(height), Int32(width), Int32(top), Int32(left), Int32(paddedHeight),
                        Int32(paddedWidth), Int32(stride), &reused, count, 1)
      #expect(reused == expected, "reused, top \(top) left \(left)")
    }
  }

  @Test("the kernel's rectifier gives the bits of the separate sum and ReLU, mask included, on every path",
        arguments: [PRKernelPathAutomatic, PRKernelPathAVX2, PRKernelPathPortable],
        [[2, 3, 7, 7], [2, 2, 9, 37], [1, 5, 4, 4]])
  func rectifier(path: PRKernelPath, input: [Int]) {
    var rng = SeededGenerator(seed: 61)
    let x = Tensor.normal(Shape(input), using: &rng), w = Tensor.normal([6, input[1], 3, 3], using: &rng) * 0.5
    let b = Tensor.normal([6], using: &rng)
    DirectConvolution.withPath(path) {
      let plain = conv2D(x, weight: w, bias: b, padding: (1, 1))
      let skip = Tensor.normal(plain.shape, using: &rng), weights = Tensor.normal(plain.shape, using: &rng)
      #expect(conv2DReLU(x, weight: w, bias: b, padding: (1, 1)).scalars.map(\.bitPattern)
              == plain.relu().scalars.map(\.bitPattern))
      #expect(conv2DAddingReLU(x, weight: w, bias: b, adding: skip, padding: (1, 1)).scalars.map(\.bitPattern)
              == plain.addingReLU(skip).scalars.map(\.bitPattern))
      // Recorded: the outputs and the masks (through the gradients they gate) of both fusions.
      func recorded(fused: Bool) -> [[UInt32]] {
        let (px, ps) = (x.requiringGradient(), skip.requiringGradient())
        let relu = fused ? conv2DReLU(px, weight: w, bias: b, padding: (1, 1)) : conv2D(px, weight: w, bias: b, padding: (1, 1)).relu()
        let sum = fused
          ? conv2DAddingReLU(px, weight: w, bias: b, adding: ps, padding: (1, 1))
          : conv2D(px, weight: w, bias: b, padding: (1, 1)).addingReLU(ps)
        let g = gradients(of: ((relu + sum) * weights).sum(), wrt: [px, ps])
        return [relu, sum, g[0], g[1]].map { $0.scalars.map(\.bitPattern) }
      }
      let viaFused = recorded(fused: true)
      #expect(viaFused == recorded(fused: false))
      #expect(viaFused[3].contains(0) && viaFused[3].contains { $0 != 0 })
    }
  }

  @Test("identical patches give identical outputs: a constant image's interior is one value per channel")
  func identicalPatches() {
    var rng = SeededGenerator(seed: 13)
    let g = ConvGeometry(input: [1, 3, 20, 20], kernel: (3, 3), padding: (1, 1))
    let x = Tensor.full(0.37, shape: g.inputShape)
    let w = Tensor.normal([5, 3, 3, 3], using: &rng), b = Tensor.normal([5], using: &rng)
    let y = Self.forward(x, w, b, g, 5, path: PRKernelPathAutomatic)
    for oc in 0..<5 {
      let interior = (1..<19).flatMap { oy in (1..<19).map { ox in y[(oc * 20 + oy) * 20 + ox] } }
      #expect(Set(interior).count == 1)
    }
  }

  @Test("row GEMM: a row's bits depend on neither M nor its place; AVX-512, AVX2 and portable agree; values match doubles")
  func rowGEMM() {
    var rng = SeededGenerator(seed: 14)
    // Shapes with partial 12-row tiles and 32- and 16-column panels, K = 0, and a split point.
    let cases: [(m: Int, k: Int, n: Int, transposeB: Bool, bias: Bool)] = [
      (13, 37, 21, false, true), (40, 300, 16, true, true), (7, 5, 3, true, true), (1, 1600, 128, true, true),
      (25, 64, 33, false, false), (12, 17, 32, true, false), (30, 9, 70, false, true), (5, 0, 4, false, true),
    ]
    for (m, k, n, transposeB, hasBias) in cases {
      let a = Tensor.normal([m, k], using: &rng), b = Tensor.normal(transposeB ? [n, k] : [k, n], using: &rng)
      let bias = Tensor.normal([n], using: &rng)
      func run(_ rows: Range<Int>, _ path: PRKernelPath) -> [Float] {
        var c = [Float](repeating: .nan, count: rows.count * n)
        c.withUnsafeMutableBufferPointer { cp in
          RowGEMM.multiply(m: rows.count, n: n, k: k, a: a.storage.base + rows.lowerBound * k, lda: k,
                           b: b.storage.base, ldb: transposeB ? k : n, transposeB: transposeB,
                           bias: hasBias ? bias.storage.base : nil, c: cp.baseAddress!, ldc: n, kernelPath: path)
        }
        return c
      }
      let all = run(0..<m, PRKernelPathAutomatic)
      #expect(all == run(0..<m, PRKernelPathPortable), "\(m)×\(k)×\(n)")
      #expect(all == run(0..<m, PRKernelPathAVX2), "\(m)×\(k)×\(n)")
      let last = m - 1
      #expect(run(last..<m, PRKernelPathAutomatic) == Array(all[(last * n)..<(m * n)]))
      let middle = m / 2
      #expect(run(middle..<m, PRKernelPathAutomatic) == Array(all[(middle * n)..<(m * n)]))
      var reference = KernelTests.naiveMatmul(a.scalars, b.scalars, m: m, k: k, n: n, tA: false, tB: transposeB)
      if hasBias { for i in 0..<m { for j in 0..<n { reference[i * n + j] += bias.scalars[j] } } }
      #expect(Self.maxRelative(all, reference) < 1e-5, "\(m)×\(k)×\(n)")
    }
  }
}
