import PixelNN
import PixelTensor

/// DeepFool (Moosavi-Dezfooli, Fawzi & Frossard, 2016, https://arxiv.org/abs/1511.04599): at each
/// step, linearise the logits and jump to the nearest linearised class boundary.
///
/// With `w_k = ∇(z_k − z_y)` and `f_k = z_k − z_y` at the current point, the step goes to the
/// closest candidate boundary `l = argmin_k |f_k| / ‖w_k‖_*` (dual norm: ‖·‖₂ for L2, ‖·‖₁ for L∞):
/// ```
/// L2:  r = |f_l| / ‖w_l‖₂² · w_l          L∞:  r = |f_l| / ‖w_l‖₁ · sign(w_l)
/// ```
/// ``Overshoot/total`` (the paper, Foolbox) steps to `|f_l| + 10⁻⁴`, accumulates `p = Σ r` and sets
/// `x = clip(x₀ + (1 + overshoot)·p)`; ``Overshoot/eachStep`` (torchattacks) sets
/// `x ← clip(x + (1 + overshoot)·r)`. An example stops as soon as it is misclassified. Batched:
/// one forward pass and one vector–Jacobian product per candidate class per step for the whole batch.
///
/// Targeted, the target is the only candidate. With a mask, the gradients are gated, so the linearisation and the step live in the masked subspace.
public struct DeepFool: MinimalAttack {
  /// Where the overshoot factor applies.
  public enum Overshoot: String, Sendable, CaseIterable {
    /// To the accumulated perturbation (the paper's and Foolbox's convention).
    case total
    /// To every step (torchattacks' convention).
    case eachStep = "each-step"
  }

  /// The norm whose boundary distance DeepFool minimises: `.l2` or `.lInfinity`.
  public let norm: PerturbationNorm
  /// Maximum linearisation steps.
  public var steps: Int
  /// The overshoot factor (0.02).
  public var overshoot: Float
  /// How the overshoot applies.
  public var overshootMode: Overshoot
  /// Candidate classes besides the label: the `candidates` largest initial logits, or all when `nil`.
  public var candidates: Int?

  /// DeepFool in `norm` with `steps` steps.
  /// - Throws: ``AttackError`` for L0, non-positive steps or candidates, or a negative overshoot.
  public init(norm: PerturbationNorm = .l2, steps: Int = 50, overshoot: Float = 0.02, overshootMode: Overshoot = .total,
              candidates: Int? = nil) throws {
    guard norm != .l0 else { throw AttackError.invalidStep("DeepFool works in L2 or L∞, not L0") }
    guard steps >= 1 else { throw AttackError.invalidStep("DeepFool needs at least one step") }
    guard overshoot >= 0, overshoot.isFinite else { throw AttackError.invalidStep("DeepFool's overshoot must be ≥ 0") }
    if let candidates, candidates < 1 { throw AttackError.invalidStep("DeepFool needs at least one candidate class") }
    self.norm = norm; self.steps = steps; self.overshoot = overshoot; self.overshootMode = overshootMode
    self.candidates = candidates
  }

  public var name: String { "deepfool-\(norm.rawValue)" }

  public func perturb(_ x: Tensor, criterion: Criterion, within domain: PixelDomain, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    let n = x.shape[0], d = x.elementCount / Swift.max(n, 1), rest = Array(x.shape.dims.dropFirst())
    let y = criterion.trueLabels
    let clean = x.scalars
    var current = clean, total = [Float](repeating: 0, count: n * d)
    var active = Array(0..<n)
    var others: [[Int]] = []
    for step in 0..<steps {
      let batch = Tensor(active.flatMap { current[($0 * d)..<(($0 + 1) * d)] }, shape: Shape([active.count] + rest))
      let probe = LogitProbe(batch, model: model)
      if step == 0 {
        // Targeted: the only boundary that matters is the target's.
        others = (0..<n).map { criterion.isTargeted ? [criterion.labels[$0]] : candidateClasses(probe.row($0), label: y[$0]) }
      }
      let predicted = probe.predictions
      let still = active.indices.filter { j in
        let i = active[j]
        return criterion.isTargeted ? predicted[j] != criterion.labels[i] : predicted[j] == y[i]
      }
      if still.isEmpty { break }
      // One gradient per candidate rank: w_k = ∇(z_k − z_y) for each example's k-th candidate.
      let ranks = others[active[still[0]]].count
      var gradients: [[Float]] = []
      for r in 0..<ranks {
        var c = [Float](repeating: 0, count: probe.logits.count)
        for j in still {
          let i = active[j]
          c[j * probe.classes + others[i][r]] += 1
          c[j * probe.classes + y[i]] -= 1
        }
        gradients.append(domain.gate(probe.inputGradient(cotangent: c)).scalars)
      }
      for j in still {
        let i = active[j]
        var bestDistance = Float.infinity, bestRank = 0, bestDual: Float = 0
        for r in 0..<ranks {
          let f = probe.logit(j, others[i][r]) - probe.logit(j, y[i])
          let g = gradients[r][(j * d)..<((j + 1) * d)]
          let dual = norm == .l2 ? g.reduce(0) { $0 + $1 * $1 }.squareRoot() : g.reduce(0) { $0 + Swift.abs($1) }
          let distance = Swift.abs(f) / (dual + 1e-8)
          if distance < bestDistance { bestDistance = distance; bestRank = r; bestDual = dual }
        }
        // The paper's code and Foolbox step 10⁻⁴ past the linearised boundary, which keeps the
        // iterate moving where clipping at 0 or 1 would otherwise stall it on the boundary.
        let stepDistance = bestDistance + (overshootMode == .total ? 1e-4 : 0)
        let bestScale = norm == .l2 ? stepDistance / (bestDual + 1e-8) : stepDistance
        let g = gradients[bestRank][(j * d)..<((j + 1) * d)]
        for (q, v) in g.enumerated() {
          let r = norm == .l2 ? bestScale * v : bestScale * (v > 0 ? 1 : v < 0 ? -1 : 0)
          switch overshootMode {
          case .total:
            total[i * d + q] += r
            current[i * d + q] = (clean[i * d + q] + (1 + overshoot) * total[i * d + q]).clamped(to: domain.bounds)
          case .eachStep:
            current[i * d + q] = (current[i * d + q] + (1 + overshoot) * r).clamped(to: domain.bounds)
          }
        }
      }
      active = still.map { active[$0] }
    }
    return domain.confine(Tensor(current, shape: x.shape), around: x)
  }

  /// The classes to linearise towards: every other class, or the `candidates` largest logits.
  func candidateClasses(_ z: ArraySlice<Float>, label: Int) -> [Int] {
    let order = (0..<z.count).sorted { z[z.startIndex + $0] > z[z.startIndex + $1] }.filter { $0 != label }
    return candidates.map { Array(order.prefix($0)) } ?? order
  }
}
