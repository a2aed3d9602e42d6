/// Whether operations are recorded for differentiation in the current task.
///
/// Task-local, so concurrent tasks (and `withoutGradients` blocks) never affect each other.
public enum GradMode {
  /// `true` (the default) records new operations on tensors that require gradients.
  @TaskLocal public static var isEnabled: Bool = true
}

/// Runs `body` without recording gradient history (inference, optimizer steps, attacks'
/// projection steps). Operations inside cost no graph memory.
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
  try GradMode.$isEnabled.withValue(false, operation: body)
}

/// Runs `body` with gradient recording on, even inside ``withoutGradients(_:)``.
public func withGradients<R>(_ body: () throws -> R) rethrows -> R {
  try GradMode.$isEnabled.withValue(true, operation: body)
}
