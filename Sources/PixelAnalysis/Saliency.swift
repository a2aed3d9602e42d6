import PixelNN
import PixelTensor

/// Per-image saliency maps, each `[N, C, H, W]`, computed in inference mode.
public enum Saliency {
  /// `|∇ₓ CE(f(x), y)|` (Simonyan et al., 2014).
  public static func absoluteGradient(model: Model, images: Tensor, labels: [Int]) -> Tensor {
    model.withMode(.inference) {
      withoutGradients { InputGradientMap.gradients(model: model, images: images, labels: labels, target: .loss).abs() }
    }
  }

  /// `x ⊙ ∇ₓ f(x)[ŷ]`, gradient × input (Shrikumar et al., 2016), of the predicted-class logit.
  public static func gradientTimesInput(model: Model, images: Tensor) -> Tensor {
    model.withMode(.inference) {
      let g = InputGradientMap.gradients(model: model, images: images, labels: [], target: .logit)
      return withoutGradients { g * images }
    }
  }

  /// SmoothGrad (Smilkov et al., 2017): the mean of `|∇ₓ f(x + ε)[ŷ]|` over `samples` noisy
  /// copies, `ε ~ N(0, σ²)` in pixel units, with ŷ the clean prediction.
  public static func smoothGrad(model: Model, images: Tensor, samples: Int = 25, noise sigma: Float = 0.1,
                                using rng: inout SeededGenerator) -> Tensor {
    precondition(samples >= 1 && sigma >= 0, "SmoothGrad needs samples ≥ 1 and σ ≥ 0")
    return model.withMode(.inference) {
      let predicted = withoutGradients { model.logits(images).argmax(alongAxis: 1) }
      var total = Tensor.zeros(images.shape)
      for _ in 0..<samples {
        let noisy = withoutGradients { images + Tensor.normal(images.shape, standardDeviation: sigma, using: &rng) }
        let x = noisy.requiringGradient()
        let k = model.spec.classes
        let logit = withGradients {
          model.logits(x).gathering(IndexBuffer(predicted.enumerated().map { $0.offset * k + $0.element }),
                                    shape: [predicted.count]).sum()
        }
        total = withoutGradients { total + PixelTensor.gradients(of: logit, wrt: [x])[0].abs() }
      }
      return withoutGradients { total * (1 / Float(samples)) }
    }
  }
}
