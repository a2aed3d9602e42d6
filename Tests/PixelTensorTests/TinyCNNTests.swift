import Testing
import PixelTensor
import _TestSupport

/// The tiny CNN of `tiny_cnn.safetensors`: conv 3×3 pad 1 (1→4) → act → max-pool 2 →
/// conv 3×3 (4→8) → act → max-pool 2 → flatten → linear 32→10.
struct TinyCNN {
  static let parameterNames = ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"]
  let activation: String
  let parameters: [Tensor]

  init(activation: String, requiringGradient: Bool = false) {
    self.activation = activation
    parameters = Self.parameterNames.map {
      let t = Fixtures.tinyCNN["\(activation).\($0)"]
      return requiringGradient ? t.requiringGradient() : t
    }
  }

  func act(_ x: Tensor) -> Tensor { activation == "relu" ? x.relu() : x.softplus() }

  func logits(_ x: Tensor) -> Tensor {
    let p = parameters
    var h = maxPool2D(act(conv2D(x, weight: p[0], bias: p[1], stride: 1, padding: 1)), kernel: 2)
    h = maxPool2D(act(conv2D(h, weight: p[2], bias: p[3])), kernel: 2)
    return linear(h.flattenedBatch(), weight: p[4], bias: p[5])
  }
}

@Suite("PyTorch reference fixtures: tiny_cnn.safetensors (first and second order)")
struct TinyCNNTests {
  static let activations = ["relu", "softplus"]
  var labels: [Int] { Fixtures.tinyCNN["labels"].scalars.map { Int($0) } }

  @Test("logits, per-example CE and input gradients", arguments: activations)
  func forwardAndInputGradients(_ act: String) {
    let f = Fixtures.tinyCNN
    let net = TinyCNN(activation: act)
    let x = f["x"].requiringGradient()
    let logits = net.logits(x)
    #expect(relativeError(logits, f["\(act).logits"]) <= 1e-3)
    let ce = crossEntropy(logits: logits, labels: labels, reduction: .none)
    #expect(relativeError(ce, f["\(act).ce"]) <= 1e-3)
    let g = gradients(of: ce.sum(), wrt: [x])[0]
    #expect(relativeError(g, f["\(act).input_grad"]) <= 1e-3)
  }

  @Test("∂(mean CE)/∂θ", arguments: activations)
  func parameterGradients(_ act: String) {
    let f = Fixtures.tinyCNN
    let net = TinyCNN(activation: act, requiringGradient: true)
    let loss = crossEntropy(logits: net.logits(f["x"]), labels: labels)
    let grads = gradients(of: loss, wrt: net.parameters)
    for (name, g) in zip(TinyCNN.parameterNames, grads) {
      #expect(relativeError(g, f["\(act).grad_mean_ce.\(name)"]) <= 1e-3, "\(act) \(name)")
    }
  }

  @Test("double backprop: ∂(mean_n ‖∇ₓ CE_n‖²)/∂θ", arguments: activations)
  func inputGradientPenalty(_ act: String) {
    let f = Fixtures.tinyCNN
    let net = TinyCNN(activation: act, requiringGradient: true)
    let x = f["x"].requiringGradient()
    let ce = crossEntropy(logits: net.logits(x), labels: labels, reduction: .sum)
    let gx = gradients(of: ce, wrt: [x], createGraph: true)[0]
    #expect(gx.requiresGradient)
    let penalty = gx.squared().sum() * (1 / Float(labels.count))
    #expect(relativeError(penalty.reshaped(to: [1]), f["\(act).grad_penalty"]) <= 1e-3)
    let grads = gradients(of: penalty, wrt: net.parameters)
    for (name, g) in zip(TinyCNN.parameterNames, grads) {
      #expect(relativeError(g, f["\(act).grad_penalty_wrt.\(name)"]) <= 1e-3, "\(act) \(name)")
    }
  }

  @Test("Hessian-vector product in input space", arguments: activations)
  func hessianVectorProduct(_ act: String) {
    let f = Fixtures.tinyCNN
    let net = TinyCNN(activation: act)
    let x = f["x"].requiringGradient()
    let ce = crossEntropy(logits: net.logits(x), labels: labels, reduction: .sum)
    let gx = gradients(of: ce, wrt: [x], createGraph: true)[0]
    let hv = gradients(of: (gx * f["v"]).sum(), wrt: [x])[0]
    #expect(relativeError(hv, f["\(act).hvp_x"]) <= 1e-3)
  }
}
