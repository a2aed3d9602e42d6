import Foundation

/// A learning-rate schedule over training iterations, with an optional linear warm-up.
public struct LearningRateSchedule: Sendable, Equatable {
  /// The shape after warm-up.
  public enum Kind: Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// Multiply by `gamma` every `every` iterations.
    case step(every: Int, gamma: Float)
    /// Cosine annealing from the base rate to `minimum` over the remaining iterations
    /// (Loshchilov & Hutter, 2017, without restarts).
    case cosine(minimum: Float)
  }

  public var kind: Kind
  /// Iterations of linear warm-up from `base / warmupIterations` to `base`.
  public var warmupIterations: Int

  /// A schedule of `kind` after `warmupIterations` of linear warm-up.
  public init(_ kind: Kind = .constant, warmupIterations: Int = 0) {
    precondition(warmupIterations >= 0, "warm-up must be non-negative")
    self.kind = kind
    self.warmupIterations = warmupIterations
  }

  /// The rate at 0-based `iteration` of `totalIterations`.
  public func rate(base: Float, iteration: Int, totalIterations: Int) -> Float {
    if iteration < warmupIterations { return base * Float(iteration + 1) / Float(warmupIterations) }
    let t = iteration - warmupIterations
    switch kind {
    case .constant:
      return base
    case .step(let every, let gamma):
      return base * Float(Foundation.pow(Double(gamma), Double(t / Swift.max(every, 1))))
    case .cosine(let minimum):
      let span = Swift.max(totalIterations - warmupIterations, 1)
      let progress = Double(Swift.min(t, span)) / Double(span)
      return minimum + (base - minimum) * Float(0.5 * (1 + Foundation.cos(Double.pi * progress)))
    }
  }
}
