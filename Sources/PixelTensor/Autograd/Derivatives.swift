/// THE derivative table: one exhaustive switch, so the compiler refuses a primitive without
/// a VJP.
///
/// Rules: VJP bodies use only differentiable `Tensor` ops (never `Kernels`), may read the
/// saved inputs and output, and skip cotangents whose `needs` entry is false (an attack that
/// wants only ∂/∂x does no weight-gradient GEMM).
extension GraphNode {
  /// Vector–Jacobian product: `g` is the cotangent of this node's output. Returns one
  /// cotangent per input, `nil` where `needs[i]` is false.
  func vjp(_ g: Tensor, needs: [Bool]) -> [Tensor?] {
    func only(_ i: Int, _ t: () -> Tensor) -> Tensor? { needs[i] ? t() : nil }
    switch primitive {
    case .leaf:
      return []
    case .add:
      return [only(0) { g }, only(1) { g }]
    case .subtract:
      return [only(0) { g }, only(1) { -g }]
    case .multiply:
      return [only(0) { g * input(1) }, only(1) { g * input(0) }]
    case .divide:
      let b = input(1)
      return [only(0) { g / b }, only(1) { -(g * input(0) / (b * b)) }]
    case .negate:
      return [-g]
    case .affine(let scale, _):
      return [g.affine(scale: scale, shift: 0)]
    case .exp:
      return [g * output]
    case .log:
      return [g / input(0)]
    case .log1p:
      return [g / input(0).affine(scale: 1, shift: 1)]
    case .sqrt:
      return [g / output.affine(scale: 2, shift: 0)]
    case .tanh:
      let y = output
      return [g * (y * y).affine(scale: -1, shift: 1)]
    case .reciprocal:
      let y = output
      return [-(g * y * y)]
    case .select(let mask):
      return [g.selecting(mask)]
    case .matmul(let tA, let tB):
      let (da, db) = matmulCotangents(g, tA, tB, needs)
      return [da, db]
    case .matmulBias(let tA, let tB, let perRow):
      let (da, db) = matmulCotangents(g, tA, tB, needs)
      return [da, db, only(2) {
        perRow ? g.sum(toShape: [g.shape[0], 1]).reshaped(to: inputShapes[2]) : g.sum(toShape: inputShapes[2])
      }]
    case .broadcast:
      return [g.sum(toShape: inputShapes[0])]
    case .sumToShape:
      return [g.broadcast(to: inputShapes[0])]
    case .reshape:
      return [g.reshaped(to: inputShapes[0])]
    case .permute(let p):
      return [g.permuted(inversePermutation(p))]
    case .pad(let padding):
      return [g.slice(starts: padding.map(\.before), shape: inputShapes[0])]
    case .slice(let starts):
      let input = inputShapes[0]
      return [g.padded((0..<input.rank).map {
        Padding(starts[$0], input[$0] - starts[$0] - outputShape[$0])
      })]
    case .concatenate(let axis):
      var offset = 0
      return inputShapes.enumerated().map { i, s in
        defer { offset += s[axis] }
        guard needs[i] else { return nil }
        var starts = [Int](repeating: 0, count: s.rank)
        starts[axis] = offset
        return g.slice(starts: starts, shape: s)
      }
    case let .convolution(geometry, hasBias):
      // y = conv(x, W) + b: dx = convᵀ(g, W), dW = g ⋆ x, db = Σ g over N, H, W.
      let x = input(0), w = input(1)
      let dx = only(0) { convolutionInputGradient(g, weight: w, geometry: geometry) }
      let dw = only(1) { convolutionWeightGradient(x, outputGradient: g, geometry: geometry) }
      guard hasBias else { return [dx, dw] }
      return [dx, dw, only(2) { g.sum(toShape: [1, g.shape[1], 1, 1]).reshaped(to: inputShapes[2]) }]
    case .convolutionInputGradient(let geometry):
      // z = convᵀ(gy, W) is the adjoint of conv in x: dgy = conv(dz, W), dW = gy ⋆ dz.
      let gy = input(0), w = input(1)
      return [only(0) { convolution(g, weight: w, bias: nil, geometry: geometry) },
              only(1) { convolutionWeightGradient(g, outputGradient: gy, geometry: geometry) }]
    case .convolutionWeightGradient(let geometry):
      // v = gy ⋆ x: dx = convᵀ(gy, dv), dgy = conv(x, dv).
      let x = input(0), gy = input(1)
      return [only(0) { convolutionInputGradient(gy, weight: g, geometry: geometry) },
              only(1) { convolution(x, weight: g, bias: nil, geometry: geometry) }]
    case .im2col(let geometry):
      return [g.col2im(geometry)]
    case .col2im(let geometry):
      return [g.im2col(geometry)]
    case .channelAffine:
      // y = x·s[c] + t[c]: dx = g·s[c], ds = Σ g·x per channel, dt = Σ g per channel.
      let x = input(0), s = input(1)
      let channels = inputShapes[1]
      return [only(0) { g.channelAffine(scale: s, shift: .zeros(channels)) }, only(1) { g.channelDot(x) },
              only(2) { g.channelSums() }]
    case .channelAffinePair:
      // y = a·s[c] + b·u[c] + t[c]: da = g·s[c], ds = Σ g·a, db = g·u[c], du = Σ g·b, dt = Σ g.
      let a = input(0), s = input(1), b = input(2), u = input(3)
      let channels = inputShapes[1], zero = Tensor.zeros(channels)
      return [only(0) { g.channelAffine(scale: s, shift: zero) }, only(1) { g.channelDot(a) },
              only(2) { g.channelAffine(scale: u, shift: zero) }, only(3) { g.channelDot(b) },
              only(4) { g.channelSums() }]
    case .channelDot:
      // y[c] = Σ a·b: da = b·g[c], db = a·g[c].
      let a = input(0), b = input(1), zero = Tensor.zeros(outputShape)
      return [only(0) { b.channelAffine(scale: g, shift: zero) }, only(1) { a.channelAffine(scale: g, shift: zero) }]
    case .batchNormTraining(let statistics):
      // y = x̂·γ + β with x̂ = (x − μ)·r: dβ = Σg, dγ = Σg·x̂, dx = γr·(g − Σg/n − x̂·Σg·x̂/n),
      // per channel over n values. Σg·x̂ = r·(Σg·x − μ·Σg), and dx is written as one affine
      // map of g plus one of x.
      let x = input(0), gamma = input(1)
      let c = inputShapes[0][1], perChannel = Float(inputShapes[0].elementCount / Swift.max(c, 1))
      // μ and r are functions of x. When this backward pass is recorded through x (double
      // backprop), they are recomputed from x so that higher derivatives see that dependence;
      // otherwise the forward pass's values, which are the same bits, are reused.
      let (mean, inverse): (Tensor, Tensor)
      if x.isRecording {
        let (m, v) = batchStatistics(x)
        (mean, inverse) = (m, (v + statistics.epsilon).squareRoot().reciprocal())
      } else {
        (mean, inverse) = (statistics.mean, statistics.inverseDeviation)
      }
      let (sumG, dotGX) = g.channelSumsAndDot(x)
      let sumGXHat = (dotGX - mean * sumG) * inverse
      let dx = only(0) { () -> Tensor in
        let onG = gamma * inverse
        let onX = -(onG * inverse * sumGXHat) * (1 / perChannel)
        let shift = -(onG * sumG) * (1 / perChannel) - onX * mean
        return g.channelAffine(scale: onG, adding: x, scaledBy: onX, shift: shift)
      }
      return [dx, only(1) { sumGXHat }, only(2) { sumG }]
    case .gather(let indices):
      return [g.scatteringAdd(indices, into: inputShapes[0])]
    case .scatterAdd(let indices):
      return [g.gathering(indices, shape: inputShapes[0])]
    }
  }
}

extension GraphNode {
  /// Cotangents of `C = op(A)·op(B)`. With A' = op(A), B' = op(B): dA' = g·B'ᵀ and
  /// dB' = A'ᵀ·g, transposed back when A or B was stored transposed.
  func matmulCotangents(_ g: Tensor, _ tA: Bool, _ tB: Bool, _ needs: [Bool]) -> (Tensor?, Tensor?) {
    let a = input(0), b = input(1)
    let da = needs[0] ? (tA ? matmul(b, g, transposeA: tB, transposeB: true)
                            : matmul(g, b, transposeA: false, transposeB: !tB)) : nil
    let db = needs[1] ? (tB ? matmul(g, a, transposeA: true, transposeB: tA)
                            : matmul(a, g, transposeA: !tA, transposeB: false)) : nil
    return (da, db)
  }
}

/// The permutation that undoes `p`.
func inversePermutation(_ p: [Int]) -> [Int] {
  var inv = [Int](repeating: 0, count: p.count)
  for (i, v) in p.enumerated() { inv[v] = i }
  return inv
}
