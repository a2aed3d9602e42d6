import PixelImaging
import PixelTensor

/// Clean | perturbation | adversarial columns for the first examples of a batch, captioned
/// with the true label and the predictions.
public enum ExampleGrid {
  public static func render(clean: Tensor, adversarial: Tensor, labels: [Int], cleanPredictions: [Int],
                            adversarialPredictions: [Int], epsilon: Float, count: Int = 8, title: String) -> Canvas {
    let n = Swift.min(count, clean.shape[0])
    let scale = Swift.max(1, 84 / Swift.max(clean.shape[2], clean.shape[3]))
    var cells: [(canvas: Canvas, caption: String)] = []
    for i in 0..<n {
      let delta = withoutGradients { adversarial[i] - clean[i] }
      cells.append((Heatmap.imageTile(clean[i], scale: scale), "y=\(labels[i]) pred \(cleanPredictions[i])"))
      cells.append((Heatmap.perturbationTile(delta, limit: Swift.max(epsilon, 1e-6), scale: scale), "delta"))
      cells.append((Heatmap.imageTile(adversarial[i], scale: scale), "adv pred \(adversarialPredictions[i])"))
    }
    return Heatmap.grid(cells, columns: 3, title: title)
  }
}
