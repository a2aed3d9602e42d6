import Foundation
import PixelNN
import PixelTensor

/// Saves the first batch an attack produces at each ε: `examples_eps<ε>.png` (clean |
/// perturbation | adversarial, with predictions) and `x_adv_eps<ε>.npy` (`[N, C, H, W]`); for a
/// minimal attack, `examples_<attack>.png` and `x_adv_<attack>.npy`.
/// Feed it the batches of ``AttackReport``'s `onBatch`; failures are kept until ``finish()``.
public final class AdversarialExamples {
  /// The folder the files go to (created if missing).
  public let folder: URL
  let model: any Classifier
  let title: String
  private var saved = Set<String>()
  private var failure: (any Error)?

  /// A writer into `folder`; grid titles read `"<title> eps=<ε>"`.
  public init(folder: URL, model: any Classifier, title: String) {
    self.folder = folder
    self.model = model
    self.title = title
  }

  /// Saves this batch if it is the first at `epsilon`.
  public func record(epsilon: Float, clean x: Tensor, adversarial xAdv: Tensor, labels: [Int]) {
    record(key: "eps\(epsilon)", scale: epsilon, title: "\(title) eps=\(epsilon)", clean: x, adversarial: xAdv, labels: labels)
  }

  /// Saves this batch of the minimal attack `attack` if it is its first; the perturbation tiles
  /// are scaled to the batch's largest change.
  public func record(attack: String, clean x: Tensor, adversarial xAdv: Tensor, labels: [Int]) {
    let largest = withoutGradients { (xAdv - x).abs().max() }
    record(key: attack, scale: largest, title: [attack, title].filter { !$0.isEmpty }.joined(separator: " "), clean: x,
           adversarial: xAdv, labels: labels)
  }

  private func record(key: String, scale: Float, title: String, clean x: Tensor, adversarial xAdv: Tensor, labels: [Int]) {
    guard failure == nil, saved.insert(key).inserted else { return }
    let (p0, p1) = withoutGradients { (model.logits(x).argmax(alongAxis: 1), model.logits(xAdv).argmax(alongAxis: 1)) }
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try ExampleGrid.render(clean: x, adversarial: xAdv, labels: labels, cleanPredictions: p0, adversarialPredictions: p1,
                             epsilon: scale, title: title)
        .write(to: folder.appendingPathComponent("examples_\(key).png"))
      try NumPy.write(xAdv, to: folder.appendingPathComponent("x_adv_\(key).npy"))
    } catch {
      failure = error
    }
  }

  /// Throws the first write failure, if any.
  public func finish() throws {
    if let failure { throw failure }
  }
}
