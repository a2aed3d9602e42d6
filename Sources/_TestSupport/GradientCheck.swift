import PixelTensor

/// The outcome of comparing an analytic directional derivative with a central difference.
public struct DerivativeReport: CustomStringConvertible, Sendable {
  /// The derivative from the autodiff engine.
  public var analytic: Double
  /// The central finite difference.
  public var numeric: Double
  /// `|analytic − numeric| / max(|analytic|, |numeric|, floor)`.
  public var relativeError: Double

  init(analytic: Double, numeric: Double, floor: Double = 1e-3) {
    self.analytic = analytic
    self.numeric = numeric
    relativeError = Swift.abs(analytic - numeric) / Swift.max(Swift.abs(analytic), Swift.abs(numeric), floor)
  }

  public var description: String {
    "analytic \(analytic), numeric \(numeric), relative error \(relativeError)"
  }
}

/// `Σ w ⊙ y` accumulated in `Double`.
func weightedSum(_ y: Tensor, _ w: Tensor) -> Double {
  zip(y.scalars, w.scalars).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
}

/// `Σ_i ⟨a_i, b_i⟩` accumulated in `Double`.
func innerProduct(_ a: [Tensor], _ b: [Tensor]) -> Double {
  zip(a, b).reduce(0.0) { $0 + weightedSum($1.0, $1.1) }
}

func moved(_ xs: [Tensor], along v: [Tensor], by h: Float, only selected: Set<Int>) -> [Tensor] {
  xs.indices.map { selected.contains($0) ? xs[$0] + v[$0] * h : xs[$0] }
}

/// First-order check (JAX `check_grads` style): with random cotangent `w` and direction `v`,
/// compares `⟨∇(Σ w⊙f)(x), v⟩` with `(Σ w⊙f(x+hv) − Σ w⊙f(x−hv)) / 2h`.
public func checkDirectionalDerivative(
  _ f: ([Tensor]) -> Tensor, at inputs: [Tensor], step h: Float = 1e-2,
  using rng: inout some RandomNumberGenerator
) -> DerivativeReport {
  let leaves = inputs.map { $0.detached().requiringGradient() }
  let y = f(leaves)
  let w = Tensor.normal(y.shape, using: &rng)
  let v = inputs.map { Tensor.normal($0.shape, using: &rng) }
  let grads = gradients(of: (y * w).sum(), wrt: leaves)
  let all = Set(inputs.indices)
  let numeric = withoutGradients {
    (weightedSum(f(moved(inputs, along: v, by: h, only: all)), w)
     - weightedSum(f(moved(inputs, along: v, by: -h, only: all)), w)) / (2 * Double(h))
  }
  return DerivativeReport(analytic: innerProduct(grads, v), numeric: numeric)
}

/// Second-order check. With `s = Σ w⊙f`, directions `v` (over `first`) and `u` (over
/// `second`): compares `⟨∇_second ⟨∇_first s, v⟩, u⟩`, computed by double backprop, with the
/// central difference of `⟨∇_first s, v⟩` along `u`.
///
/// `first == second == all inputs` is a Hessian-vector product; `first = [x]`,
/// `second = [θ]` is the input-to-weight mixed partial that input-gradient regularization needs.
public func checkSecondOrder(
  _ f: ([Tensor]) -> Tensor, at inputs: [Tensor], first: Set<Int>? = nil, second: Set<Int>? = nil,
  step h: Float = 1e-2, using rng: inout some RandomNumberGenerator
) -> DerivativeReport {
  let first = first ?? Set(inputs.indices), second = second ?? Set(inputs.indices)
  let probe = f(inputs.map { $0.detached() })
  let w = Tensor.normal(probe.shape, using: &rng)
  let v = inputs.map { Tensor.normal($0.shape, using: &rng) }
  let u = inputs.map { Tensor.normal($0.shape, using: &rng) }
  let firstIndices = first.sorted(), secondIndices = second.sorted()

  func directional(_ xs: [Tensor], createGraph: Bool) -> (Tensor, [Tensor]) {
    let leaves = xs.map { $0.detached().requiringGradient() }
    let s = (f(leaves) * w).sum()
    let g = gradients(of: s, wrt: firstIndices.map { leaves[$0] }, createGraph: createGraph)
    var t = Tensor(0)
    for (k, i) in firstIndices.enumerated() { t = t + (g[k] * v[i]).sum() }
    return (t, leaves)
  }

  let (t, leaves) = directional(inputs, createGraph: true)
  let secondGradients = gradients(of: t, wrt: secondIndices.map { leaves[$0] })
  let analytic = innerProduct(secondGradients, secondIndices.map { u[$0] })
  let plus = directional(moved(inputs, along: u, by: h, only: Set(secondIndices)), createGraph: false).0.item
  let minus = directional(moved(inputs, along: u, by: -h, only: Set(secondIndices)), createGraph: false).0.item
  return DerivativeReport(analytic: analytic, numeric: (Double(plus) - Double(minus)) / (2 * Double(h)))
}

/// `‖a − b‖∞ / max(‖b‖∞, 1e-6)`: the normwise relative error of `a` against reference `b`.
public func relativeError(_ a: Tensor, _ b: Tensor) -> Float {
  precondition(a.shape == b.shape, "shapes \(a.shape) and \(b.shape) differ")
  var diff: Float = 0, scale: Float = 0
  for (x, y) in zip(a.scalars, b.scalars) {
    diff = Swift.max(diff, Swift.abs(x - y))
    scale = Swift.max(scale, Swift.abs(y))
  }
  return diff / Swift.max(scale, 1e-6)
}
