import PixelAttacks
import PixelData
import PixelImaging
import PixelNN
import PixelTensor

/// Ross & Doshi-Velez's figure of interpretable gradients: for the same images, one row per
/// model showing, per image, its signed input gradient ∂CE/∂x (gray, one symmetric scale per
/// row, the 99th percentile of |∂CE/∂x|: white pushes the loss up) and its FGSM adversarial example at ε. Regularized models
/// have gradients that look like the digits or garments; plain ones look like noise.
public enum SaliencyGrid {
  /// The grid for `images` `[N, C, H, W]` with `labels`, through each model in inference mode.
  public static func render(models: [(name: String, model: Model)], images: Tensor, labels: [Int], epsilon: Float) throws -> Canvas {
    let (h, w) = (images.shape[2], images.shape[3])
    let scale = Swift.max(1, 56 / Swift.max(h, w))
    let threat = try ThreatModel(norm: .lInfinity, epsilon: epsilon)
    var cells: [(canvas: Canvas, caption: String)] = []
    for (name, model) in models {
      let (g, xAdv, predicted): (Tensor, Tensor, [Int]) = model.withMode(.inference) {
        let g = InputGradientMap.gradients(model: model, images: images, labels: labels, target: .loss)
        var rng = SeededGenerator(seed: 0)
        let xAdv = FGSM().perturb(images, criterion: .misclassification(labels: labels), within: threat, model: model, using: &rng)
        return (g, xAdv, withoutGradients { model(xAdv).argmax(alongAxis: 1) })
      }
      let maps = (0..<labels.count).map { g[$0].channelMeanMap() }
      // NOTE: the row's scale is the 99th percentile of |g|, not the maximum, so that one
      // image's outlier does not wash out the others (values beyond it are clipped).
      let magnitudes = maps.flatMap { $0.scalars.map { Swift.abs(Double($0)) } }.sorted()
      let limit = magnitudes.isEmpty ? 1 : magnitudes[Swift.min(magnitudes.count - 1, magnitudes.count * 99 / 100)]
      for i in 0..<labels.count {
        cells.append((Heatmap.tile(maps[i], colormap: .gray, scaling: .fixed(-Swift.max(limit, 1e-12), Swift.max(limit, 1e-12)),
                                   scale: scale).canvas, i == 0 ? String(name.prefix(12)) : "grad \(labels[i])"))
        cells.append((Heatmap.imageTile(xAdv[i], scale: scale), "adv -> \(predicted[i])"))
      }
    }
    return Heatmap.grid(cells, columns: 2 * labels.count,
                        title: "signed dCE/dx (one scale per row) and FGSM eps=\(epsilon) example, per model and image")
  }
}
