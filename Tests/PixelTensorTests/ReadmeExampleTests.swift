import Testing
import PixelTensor

/// The README's example, kept compiling and checked.
@Suite("README example")
struct ReadmeExampleTests {
  @Test("double backprop through a small conv net")
  func example() {
    var rng = SeededGenerator(seed: 0)
    let x = Tensor.uniform([8, 1, 28, 28], using: &rng).requiringGradient()
    let w = Tensor.normal([4, 1, 3, 3], standardDeviation: 0.3, using: &rng).requiringGradient()
    let fc = Tensor.normal([10, 4 * 13 * 13], standardDeviation: 0.05, using: &rng).requiringGradient()

    let h = maxPool2D(conv2D(x, weight: w, stride: 1).relu(), kernel: 2).flattenedBatch()
    let ce = crossEntropy(logits: linear(h, weight: fc), labels: [0, 1, 2, 3, 4, 5, 6, 7])
    let gx = gradients(of: ce, wrt: [x], createGraph: true)[0]
    let penalty = (gx * gx).sum() / 8
    let grads = gradients(of: ce + 10 * penalty, wrt: [w, fc])
    #expect(grads[0].shape == w.shape && grads[1].shape == fc.shape)
    // The penalty's own weight gradient is non-zero: double backprop reached the weights.
    let penaltyOnly = gradients(of: penalty, wrt: [w])[0]
    #expect(penaltyOnly.abs().max() > 0)
  }
}
