import PixelTensor

/// `body(x) + shortcut(x)`, with an identity shortcut when it is empty (He et al., 2016).
///
/// Paths inside are prefixed with the residual's own name only (`block1.conv1.weight`), as the
/// model-spec format specifies; put an activation after the residual for a post-activation block.
public final class Residual: Layer {
  public var mode: Mode = .training
  /// Whether every layer inside is.
  public var isSamplewise: Bool { body.isSamplewise && shortcut.isSamplewise }
  public let body: Sequential
  public let shortcut: Sequential

  /// `body(x) + shortcut(x)`; an empty `shortcut` is the identity.
  public init(body: Sequential, shortcut: Sequential) {
    self.body = body
    self.shortcut = shortcut
  }

  public var members: [ModuleMember] { body.members + shortcut.members }

  public func callAsFunction(_ x: Tensor) -> Tensor { self(x, relu: false) }

  /// With `relu`, `relu(self(x))`: the sum and the ReLU in one pass, in the body's last
  /// convolution's cache when the body ends in one (``Sequential/callAsFunction(_:addingReLU:)``).
  public func callAsFunction(_ x: Tensor, relu: Bool) -> Tensor {
    let skip = shortcut.layers.isEmpty ? x : shortcut(x)
    return relu ? body(x, addingReLU: skip) : body(x) + skip
  }
}
