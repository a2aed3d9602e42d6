import PixelMasks
import PixelNN
import PixelTensor
import PixelTraining

/// The gradient-steering objective of the PRM (after Hwang et al., 2019): with `g = ∇ₓ CE(f(x), y)` per image
/// and `D` the designated pixels,
///
/// ```
/// S(g) = Σ_{p∉D} g_p² / (Σ_p g_p² + 1e-12)      (the share of gradient energy off D)
/// L    = mean CE + λ · mean_batch S(g) + w_rec · mean (P(x) − x)²
/// ```
///
/// `S` needs double backprop: `g` is computed with `createGraph: true` and differentiated again
/// with respect to the parameters. λ = 0 is plain training.
public struct PRMObjective: TrainingObjective {
  /// λ: the weight of the steering term.
  public var lambda: Float
  /// 1 off the designated pixels, 0 on them; `[1, C, H, W]`.
  public let offMask: Tensor
  /// The weight of the reconstruction term `mean (P(x) − x)²`.
  public var reconstructionWeight: Float

  /// The objective steering gradients onto `designated` for `channels`-channel images.
  public init(lambda: Float, designated: PixelMask, channels: Int, reconstructionWeight: Float = 0) {
    precondition(lambda >= 0 && reconstructionWeight >= 0, "λ and the reconstruction weight must be non-negative")
    self.lambda = lambda
    offMask = designated.complement.tensor(channels: channels)
    self.reconstructionWeight = reconstructionWeight
  }

  /// `S(g)` per example, `[N]`.
  public func offShare(_ g: Tensor) -> Tensor {
    let energy = g * g
    let total = energy.sum(alongAxes: [1, 2, 3])
    let off = (energy * offMask).sum(alongAxes: [1, 2, 3])
    return off / (total + 1e-12)
  }

  public func loss(model: Model, inputs: Tensor, labels: [Int], using rng: inout SeededGenerator) -> ObjectiveValue {
    // NOTE: the steering term differentiates the forward pass itself, so it records even when
    // the caller has switched recording off (e.g. to evaluate the loss).
    lambda > 0 ? withGradients { steeredLoss(model: model, inputs: inputs, labels: labels) }
               : steeredLoss(model: model, inputs: inputs, labels: labels)
  }

  private func steeredLoss(model: Model, inputs: Tensor, labels: [Int]) -> ObjectiveValue {
    let x = lambda > 0 ? inputs.detached().requiringGradient() : inputs
    let logits = model(x)
    let ceSum = crossEntropy(logits: logits, labels: labels, reduction: .sum)
    var loss = ceSum * (1 / Float(labels.count))
    var terms = ["ce": loss.item]
    if lambda > 0 {
      let g = gradients(of: ceSum, wrt: [x], createGraph: true)[0]
      let share = offShare(g).mean()
      terms["off_share"] = share.item
      loss = loss + share * lambda
    }
    if reconstructionWeight > 0, let prm = model.prm {
      let reconstruction = (prm.manipulate(inputs) - inputs).squared().mean()
      terms["reconstruction"] = reconstruction.item
      loss = loss + reconstruction * reconstructionWeight
    }
    return ObjectiveValue(loss: loss, logits: logits, terms: terms)
  }
}
