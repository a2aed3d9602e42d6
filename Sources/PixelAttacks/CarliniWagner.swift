import Foundation
import PixelNN
import PixelTensor

/// The Carlini–Wagner L2 attack (Carlini & Wagner, 2017, "Towards evaluating the robustness of
/// neural networks", https://arxiv.org/abs/1608.04644): Adam in tanh space on
/// ```
/// x'(w) = (tanh(w) + 1)/2 · (hi − lo) + lo,       w₀ = atanh(0.999999·(2x − 1))
/// minimise ‖x' − x‖₂² + c · max(z_y − max_{i≠y} z_i, −κ)      (targeted: max(max_{i≠t} z_i − z_t, −κ))
/// ```
/// with the paper's binary search over `c` per example: after a round, `c` halves towards the
/// largest failing value when the round succeeded, and grows ×10 until a success bounds it.
/// Each example keeps its smallest successful perturbation over all rounds and steps. With
/// `abortEarly`, an example's round stops when its loss has not fallen below 0.9999 of its value
/// `steps/10` steps before (per example rather than over the batch as in the paper's code, so
/// that results do not depend on the batch size). (torchattacks' `CW` is one round with `c = 1` and takes the margin's maxima over
/// logits multiplied by a one-hot mask; this type takes them over the logits themselves.)
///
/// With a mask, pixels off it are reset to the clean image before each forward pass, so their
/// gradient is zero and they never move.
public struct CarliniWagner: MinimalAttack {
  /// Adam steps per search round.
  public var steps: Int
  /// Adam's learning rate.
  public var learningRate: Float
  /// The confidence margin κ.
  public var confidence: Float
  /// The first `c`.
  public var initialConstant: Float
  /// Rounds of the binary search over `c` (1: no search).
  public var searchSteps: Int
  /// Stop a round when the loss stalls.
  public var abortEarly: Bool

  public var norm: PerturbationNorm { .l2 }

  /// C&W L2 with `searchSteps` rounds of `steps` Adam steps.
  /// - Throws: ``AttackError`` for non-positive counts, learning rate or constant, or a negative κ.
  public init(steps: Int = 100, learningRate: Float = 0.01, confidence: Float = 0, initialConstant: Float = 1e-3,
              searchSteps: Int = 9, abortEarly: Bool = true) throws {
    guard steps >= 1, searchSteps >= 1 else { throw AttackError.invalidStep("C&W needs at least one step and one search round") }
    guard learningRate > 0, learningRate.isFinite else { throw AttackError.invalidStep("C&W's learning rate must be positive") }
    guard initialConstant > 0, initialConstant.isFinite else { throw AttackError.invalidStep("C&W's constant c must be positive") }
    guard confidence >= 0, confidence.isFinite else { throw AttackError.invalidStep("C&W's confidence κ must be ≥ 0") }
    self.steps = steps; self.learningRate = learningRate; self.confidence = confidence
    self.initialConstant = initialConstant; self.searchSteps = searchSteps; self.abortEarly = abortEarly
  }

  public var name: String { "cw-l2" }

  public func perturb(_ x: Tensor, criterion: Criterion, within domain: PixelDomain, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    let n = x.shape[0], d = x.elementCount / Swift.max(n, 1)
    let clean = x.scalars, lo = domain.bounds.lowerBound, span = domain.bounds.upperBound - lo
    let mask = domain.mask.map { m in withoutGradients { m.broadcast(to: Shape([1] + Array(x.shape.dims.dropFirst()))).scalars } }
      ?? [Float](repeating: 1, count: d)
    let w0 = clean.map { v in Float(Foundation.atanh(Double(0.999999 * (2 * (v - lo) / span - 1)))) }
    var constant = [Float](repeating: initialConstant, count: n)
    var lower = [Float](repeating: 0, count: n), upper = [Float](repeating: .infinity, count: n)
    var bestSize = [Float](repeating: .infinity, count: n), best = clean
    for _ in 0..<searchSteps {
      var w = w0, m = [Float](repeating: 0, count: n * d), v = [Float](repeating: 0, count: n * d)
      var succeeded = [Bool](repeating: false, count: n)
      var checkpointLoss = [Float](repeating: .infinity, count: n), stopped = [Bool](repeating: false, count: n)
      for t in 0..<steps {
        let o = objective(w, clean: clean, mask: mask, constants: constant, shape: x.shape, criterion: criterion, model: model,
                          bounds: domain.bounds)
        for i in 0..<n where o.adversarial[i] && !stopped[i] {
          succeeded[i] = true
          if o.sizes[i] < bestSize[i] {
            bestSize[i] = o.sizes[i]
            best.replaceSubrange((i * d)..<((i + 1) * d), with: o.image[(i * d)..<((i + 1) * d)])
          }
        }
        // Adam, bias-corrected as torch.optim.Adam.
        let step1 = 1 - Foundation.pow(0.9, Float(t + 1)), step2 = 1 - Foundation.pow(0.999, Float(t + 1))
        for j in 0..<(n * d) where mask[j % d] != 0 && !stopped[j / d] {
          let g = o.gradient[j]
          m[j] = 0.9 * m[j] + 0.1 * g
          v[j] = 0.999 * v[j] + 0.001 * g * g
          w[j] -= learningRate * (m[j] / step1) / ((v[j] / step2).squareRoot() + 1e-8)
        }
        if abortEarly && t % Swift.max(steps / 10, 1) == 0 {
          for i in 0..<n where o.losses[i] > checkpointLoss[i] * 0.9999 { stopped[i] = true }
          checkpointLoss = o.losses
          if !stopped.contains(false) { break }
        }
      }
      for i in 0..<n {
        if succeeded[i] {
          upper[i] = Swift.min(upper[i], constant[i])
          constant[i] = (lower[i] + upper[i]) / 2
        } else {
          lower[i] = Swift.max(lower[i], constant[i])
          constant[i] = upper[i].isFinite ? (lower[i] + upper[i]) / 2 : constant[i] * 10
        }
      }
    }
    return Tensor(best, shape: x.shape)
  }

  /// The C&W objective at `w` for every example of a batch.
  struct Objective {
    /// The image in model space (exact clean values off the mask).
    var image: [Float]
    /// Per example `‖x' − x‖₂² + c·max(margin, −κ)`.
    var losses: [Float]
    /// `∂(Σ losses)/∂w` (zero off the mask).
    var gradient: [Float]
    /// Per example `‖x' − x‖₂²`.
    var sizes: [Float]
    /// Per example: misclassified (targeted: the target) with margin ≤ −κ.
    var adversarial: [Bool]
  }

  /// The objective, its gradient in tanh space and success at `w`, from one forward pass and one
  /// vector–Jacobian product: `∂/∂w = (2(x' − x) + c·∂margin/∂x')·(1 − tanh²w)/2·(hi − lo)`.
  func objective(_ w: [Float], clean: [Float], mask: [Float], constants: [Float], shape: Shape, criterion: Criterion,
                 model: any Classifier, bounds: ClosedRange<Float> = 0...1) -> Objective {
    let n = shape[0], d = clean.count / Swift.max(n, 1)
    let lo = bounds.lowerBound, span = bounds.upperBound - bounds.lowerBound
    var image = [Float](repeating: 0, count: n * d), tanhs = image
    for j in 0..<(n * d) {
      let th = Foundation.tanh(w[j])
      tanhs[j] = th
      image[j] = mask[j % d] != 0 ? (th + 1) / 2 * span + lo : clean[j]
    }
    let probe = LogitProbe(Tensor(image, shape: shape), model: model)
    var cotangent = [Float](repeating: 0, count: probe.logits.count)
    var losses = [Float](repeating: 0, count: n), sizes = losses, adversarial = [Bool](repeating: false, count: n)
    for i in 0..<n {
      let (margin, up, down) = marginTerms(probe, example: i, criterion: criterion)
      for j in (i * d)..<((i + 1) * d) { let e = image[j] - clean[j]; sizes[i] += e * e }
      losses[i] = sizes[i] + constants[i] * Swift.max(margin, -confidence)
      if margin > -confidence {
        cotangent[i * probe.classes + up] += constants[i]
        cotangent[i * probe.classes + down] -= constants[i]
      }
      adversarial[i] = margin <= -confidence && isAdversarial(probe, example: i, criterion: criterion)
    }
    let marginGradient = probe.inputGradient(cotangent: cotangent).scalars
    var gradient = [Float](repeating: 0, count: n * d)
    for j in 0..<(n * d) where mask[j % d] != 0 {
      gradient[j] = (2 * (image[j] - clean[j]) + marginGradient[j]) * (1 - tanhs[j] * tanhs[j]) / 2 * span
    }
    return Objective(image: image, losses: losses, gradient: gradient, sizes: sizes, adversarial: adversarial)
  }

  /// The margin `z_y − max_{i≠y} z_i` (targeted: `max_{i≠t} z_i − z_t`) and the classes whose
  /// logits it adds and subtracts.
  func marginTerms(_ probe: LogitProbe, example i: Int, criterion: Criterion) -> (Float, Int, Int) {
    let label = criterion.labels[i]
    let other = largestOther(probe.row(i), excluding: label)
    let z = probe.logit(i, label)
    return criterion.isTargeted ? (other.value - z, other.index, label) : (z - other.value, label, other.index)
  }

  func isAdversarial(_ probe: LogitProbe, example i: Int, criterion: Criterion) -> Bool {
    let predicted = argmax(probe.row(i))
    return criterion.isTargeted ? predicted == criterion.labels[i] : predicted != criterion.labels[i]
  }
}
