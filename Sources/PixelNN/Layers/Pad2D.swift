import PixelTensor

/// Zero padding of the two spatial axes of `[N, C, H, W]`, possibly different on each side
/// (ONNX `Pad` in constant mode with value 0, `nn.ZeroPad2d`): `top` rows above, `bottom` below,
/// `left` and `right` columns. The gradient is the input's window of the output gradient.
public final class Pad2D: Layer {
  public var mode: Mode = .training
  public var isSamplewise: Bool { true }
  public let top: Int, bottom: Int, left: Int, right: Int

  /// Pads by the given non-negative amounts.
  public init(top: Int, bottom: Int, left: Int, right: Int) {
    precondition([top, bottom, left, right].allSatisfy { $0 >= 0 }, "padding must be non-negative")
    self.top = top; self.bottom = bottom; self.left = left; self.right = right
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    x.padded([Padding(0, 0), Padding(0, 0), Padding(top, bottom), Padding(left, right)])
  }
}
