import Foundation
import PixelNN
import PixelTensor

/// The Jacobian-based saliency map attack (Papernot et al., 2016, "The limitations of deep
/// learning in adversarial settings", https://arxiv.org/abs/1511.07528): a targeted L0 attack that
/// changes two features per iteration.
///
/// With `α = ∂z_t/∂x_p + ∂z_t/∂x_q` and `β = Σ_{k≠t} (∂z_k/∂x_p + ∂z_k/∂x_q)` over pairs of
/// search-domain features `p ≠ q`, it picks `argmax α·|β|` subject to `α > 0, β < 0` (θ < 0:
/// `α < 0, β > 0`), adds θ to both, clips, and removes them from the domain. It stops when the
/// target is reached, after `⌈γ·D/2⌉` iterations (D features), or when no pair qualifies. The
/// domain starts as the features below 0.99 (θ < 0: above 0.01), as torchattacks sets it up.
/// Untargeted criteria aim at `(y + 1) mod K`. Batched: one forward pass and K vector–Jacobian
/// products per iteration for the whole batch.
///
/// With a mask, the domain holds masked features only.
public struct JSMA: MinimalAttack {
  /// The change added to each chosen feature (pixel units; negative decreases).
  public var theta: Float
  /// The largest share of features the attack may change.
  public var gamma: Float

  public var norm: PerturbationNorm { .l0 }

  /// JSMA adding `theta` to at most a share `gamma` of the features.
  /// - Throws: ``AttackError`` for θ = 0 or non-finite, or γ outside (0, 1].
  public init(theta: Float = 1, gamma: Float = 0.1) throws {
    guard theta != 0, theta.isFinite else { throw AttackError.invalidStep("JSMA's θ must be non-zero and finite") }
    guard gamma > 0, gamma <= 1 else { throw AttackError.invalidStep("JSMA's γ must lie in (0, 1]") }
    self.theta = theta
    self.gamma = gamma
  }

  public var name: String { "jsma" }

  public func perturb(_ x: Tensor, criterion: Criterion, within domain: PixelDomain, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    let n = x.shape[0], d = x.elementCount / Swift.max(n, 1), rest = Array(x.shape.dims.dropFirst())
    let increasing = theta > 0
    let mask = domain.mask.map { m in withoutGradients { m.broadcast(to: Shape([1] + rest)).scalars } } ?? [Float](repeating: 1, count: d)
    var current = x.scalars
    let targets = criterion.isTargeted ? criterion.labels : criterion.trueLabels.map { ($0 + 1) }
    var searchable = (0..<(n * d)).map { j in mask[j % d] != 0 && (increasing ? current[j] < 0.99 : current[j] > 0.01) }
    let iterations = Int((Double(d) * Double(gamma) / 2).rounded(.up))
    var active = Array(0..<n)
    for _ in 0..<iterations {
      let batch = Tensor(active.flatMap { current[($0 * d)..<(($0 + 1) * d)] }, shape: Shape([active.count] + rest))
      let probe = LogitProbe(batch, model: model)
      let k = probe.classes
      let predicted = probe.predictions
      let still = active.indices.filter { predicted[$0] != targets[active[$0]] % k }
      if still.isEmpty { break }
      // ∂z_t/∂x and Σ_{k≠t} ∂z_k/∂x for every example, from two products.
      var targetCotangent = [Float](repeating: 0, count: probe.logits.count), othersCotangent = targetCotangent
      for j in still {
        let t = targets[active[j]] % k
        for c in 0..<k { if c == t { targetCotangent[j * k + c] = 1 } else { othersCotangent[j * k + c] = 1 } }
      }
      let targetGradient = probe.inputGradient(cotangent: targetCotangent).scalars
      let othersGradient = probe.inputGradient(cotangent: othersCotangent).scalars
      var next: [Int] = []
      for j in still {
        let i = active[j]
        let features = (0..<d).filter { searchable[i * d + $0] }
        guard let (p, q) = bestPair(features, alpha: targetGradient[(j * d)..<((j + 1) * d)],
                                    beta: othersGradient[(j * d)..<((j + 1) * d)], increasing: increasing) else { continue }
        for f in [p, q] {
          current[i * d + f] = (current[i * d + f] + theta).clamped(to: domain.bounds)
          searchable[i * d + f] = false
        }
        if searchable[(i * d)..<((i + 1) * d)].contains(true) { next.append(i) }
      }
      active = next
      if active.isEmpty { break }
    }
    return domain.confine(Tensor(current, shape: x.shape), around: x)
  }

  /// The qualifying pair of `features` with the largest `α·|β|` (the first in row-major pair order
  /// on ties), or `nil` when no pair qualifies.
  func bestPair(_ features: [Int], alpha: ArraySlice<Float>, beta: ArraySlice<Float>, increasing: Bool) -> (Int, Int)? {
    let a = features.map { alpha[alpha.startIndex + $0] }, b = features.map { beta[beta.startIndex + $0] }
    var best: Float = 0, pair: (Int, Int)?
    for u in 0..<features.count {
      for v in (u + 1)..<features.count {
        let s = a[u] + a[v], o = b[u] + b[v]
        guard increasing ? (s > 0 && o < 0) : (s < 0 && o > 0) else { continue }
        let saliency = increasing ? s * -o : -s * o
        if saliency > best || pair == nil { best = saliency; pair = (features[u], features[v]) }
      }
    }
    return pair
  }
}
