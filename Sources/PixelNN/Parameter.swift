import PixelTensor

/// A trainable tensor with identity. Optimizers replace `value` in place.
public final class Parameter {
  /// The current value, always a gradient leaf.
  public var value: Tensor {
    didSet { if !value.requiresGradient { value = value.requiringGradient() } }
  }

  /// Wraps `value` as a trainable leaf.
  public init(_ value: Tensor) { self.value = value.detached().requiringGradient() }
}

/// A non-trainable tensor that belongs to a module's state, e.g. batch-norm running statistics.
/// Saved in checkpoints beside the parameters.
public final class Buffer {
  /// The current value, always a constant.
  public var value: Tensor

  /// Wraps `value` as a constant.
  public init(_ value: Tensor) { self.value = value.detached() }
}

/// Whether a model is being trained or used for inference.
///
/// Batch norm uses batch statistics and updates its running statistics only in `.training`;
/// dropout is active only in `.training`. Attacks and analysis always run in `.inference`.
public enum Mode: Sendable, Equatable {
  case training, inference
}
