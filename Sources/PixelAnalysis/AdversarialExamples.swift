import Foundation
import PixelNN
import PixelTensor

/// Saves the first batch an attack produces at each ε: `examples_eps<ε>.png` (clean |
/// perturbation | adversarial, with predictions) and `x_adv_eps<ε>.npy` (`[N, C, H, W]`).
/// Feed it the batches of ``AttackReport``'s `onBatch`; failures are kept until ``finish()``.
public final class AdversarialExamples {
  /// The folder the files go to (created if missing).
  public let folder: URL
  let model: any Classifier
  let title: String
  private var saved = Set<Float>()
  private var failure: (any Error)?

  /// A writer into `folder`; grid titles read `"<title> eps=<ε>"`.
  public init(folder: URL, model: any Classifier, title: String) {
    self.folder = folder
    self.model = model
    self.title = title
  }

  /// Saves this batch if it is the first at `epsilon`.
  public func record(epsilon: Float, clean x: Tensor, adversarial xAdv: Tensor, labels: [Int]) {
    guard failure == nil, saved.insert(epsilon).inserted else { return }
    let (p0, p1) = withoutGradients { (model.logits(x).argmax(alongAxis: 1), model.logits(xAdv).argmax(alongAxis: 1)) }
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      try ExampleGrid.render(clean: x, adversarial: xAdv, labels: labels, cleanPredictions: p0, adversarialPredictions: p1,
                             epsilon: epsilon, title: "\(title) eps=\(epsilon)")
        .write(to: folder.appendingPathComponent("examples_eps\(epsilon).png"))
      try NumPy.write(xAdv, to: folder.appendingPathComponent("x_adv_eps\(epsilon).npy"))
    } catch {
      failure = error
    }
  }

  /// Throws the first write failure, if any.
  public func finish() throws {
    if let failure { throw failure }
  }
}
