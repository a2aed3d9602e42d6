import PixelTensor

/// One row of a table-driven gradient test: a named function of some inputs and a way to draw
/// inputs that keep away from kinks (ReLU zeros, max ties, log of non-positives).
public struct GradientCase: Sendable, CustomStringConvertible {
  public enum Domain: Sendable {
    /// Standard normal values moved at least 0.05 away from 0.
    case awayFromZero
    /// Uniform in `0.5…2` (logs, square roots, divisors).
    case positive
    /// Distinct values (no ties), standard normal scale.
    case distinct
  }

  public let name: String
  public let shapes: [Shape]
  public let domain: Domain
  public let function: @Sendable ([Tensor]) -> Tensor

  public init(_ name: String, shapes: [Shape], domain: Domain = .awayFromZero,
              _ function: @escaping @Sendable ([Tensor]) -> Tensor) {
    self.name = name
    self.shapes = shapes
    self.domain = domain
    self.function = function
  }

  public var description: String { name }

  /// Draws one input per shape from this case's domain.
  public func inputs(using rng: inout some RandomNumberGenerator) -> [Tensor] {
    shapes.map { shape in
      switch domain {
      case .positive:
        return Tensor.uniform(shape, in: 0.5...2, using: &rng)
      case .awayFromZero:
        let values = Tensor.normal(shape, using: &rng).scalars.map { $0 >= 0 ? $0 + 0.05 : $0 - 0.05 }
        return Tensor(values, shape: shape)
      case .distinct:
        // A shuffled ramp plus small noise: every value differs by at least 0.05.
        var order = Array(0..<shape.elementCount)
        order.shuffle(using: &rng)
        let n = Float(Swift.max(shape.elementCount, 1))
        return Tensor(order.map { (Float($0) - n / 2) * 0.1 + 0.025 }, shape: shape)
      }
    }
  }
}
