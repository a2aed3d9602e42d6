import PixelTensor

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, with
/// PyTorch's update rule: `g ← g + λθ; b ← μb + g; θ ← θ − η·(nesterov ? g + μb : b)`.
public struct SGD: Optimizer {
  public var learningRate: Float
  public var momentum: Float
  public var nesterov: Bool
  public var weightDecay: Float
  private var velocity: [String: Tensor] = [:]

  /// SGD with optional (Nesterov) momentum and L2 weight decay, as PyTorch's `torch.optim.SGD`.
  public init(learningRate: Float, momentum: Float = 0, nesterov: Bool = false, weightDecay: Float = 0) {
    precondition(learningRate >= 0 && momentum >= 0 && weightDecay >= 0, "SGD settings must be non-negative")
    precondition(!nesterov || momentum > 0, "Nesterov momentum needs momentum > 0")
    self.learningRate = learningRate
    self.momentum = momentum
    self.nesterov = nesterov
    self.weightDecay = weightDecay
  }

  public mutating func update(_ parameters: [(name: String, parameter: Parameter)], gradients: [String: Tensor]) {
    withoutGradients {
      for (name, p) in parameters {
        guard var g = gradients[name] else { continue }
        let theta = p.value.detached()
        if weightDecay != 0 { g = g + theta * weightDecay }
        if momentum != 0 {
          let b = velocity[name].map { $0 * momentum + g } ?? g
          velocity[name] = b
          g = nesterov ? g + b * momentum : b
        }
        p.value = theta - g * learningRate
      }
    }
  }

  public var state: [String: Tensor] {
    Dictionary(uniqueKeysWithValues: velocity.map { ("sgd.momentum.\($0.key)", $0.value) })
  }

  public mutating func loadState(_ state: [String: Tensor]) throws {
    velocity = [:]
    for (k, v) in state {
      guard k.hasPrefix("sgd.momentum.") else { throw OptimizerStateError(reason: "unexpected key '\(k)' for SGD") }
      velocity[String(k.dropFirst("sgd.momentum.".count))] = v
    }
  }
}
