import PixelTensor

/// A first-order optimizer with per-parameter state keyed by parameter path, so the state
/// checkpoints under the same names as the model.
public protocol Optimizer {
  /// The step size used by the next ``update(_:gradients:)``.
  var learningRate: Float { get set }
  /// Applies one update; `gradients` is keyed like `Module.namedParameters`.
  mutating func update(_ parameters: [(name: String, parameter: Parameter)], gradients: [String: Tensor])
  /// The state tensors (moments, step count) by key, for checkpoints.
  var state: [String: Tensor] { get }
  /// Restores state saved by ``state``.
  mutating func loadState(_ state: [String: Tensor]) throws
}

/// Optimizer state that does not fit this optimizer.
public struct OptimizerStateError: Error, CustomStringConvertible {
  public let reason: String
  public var description: String { "optimizer state: \(reason)" }
}

/// Rescales `gradients` so that their global L2 norm is at most `maxNorm` (Pascanu et al., 2013).
/// - Returns: the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: inout [String: Tensor], maxNorm: Float) -> Float {
  precondition(maxNorm > 0, "maxNorm must be positive")
  let total = withoutGradients {
    gradients.values.reduce(Float(0)) { $0 + ($1 * $1).sum().item }.squareRoot()
  }
  if total > maxNorm {
    let scale = maxNorm / (total + 1e-6)
    withoutGradients { for k in gradients.keys { gradients[k] = gradients[k]! * scale } }
  }
  return total
}
