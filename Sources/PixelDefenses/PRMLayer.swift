import PixelMasks
import PixelNN
import PixelTensor

/// The Pixel Robustness Manipulator (Hwang et al., 2019): a first layer that reads only the
/// designated pixels, a small convolutional encoder, and a transposed convolution back to an
/// image; the classifier then sees `α·P(x) + (1 − α)·x`.
///
/// For a pattern the first layer is a convolution with the pattern's kernel and stride started
/// at its shift, so it touches designated pixels only; for an explicit mask it is a 2×2,
/// stride-2 convolution of `x ⊙ M`. Either way there is no weight for an off-mask pixel and the
/// gradient of `P(x)` with respect to such a pixel is exactly zero. `P(x)` passes through a
/// sigmoid so that it stays an image in `[0, 1]`.
public final class PRMLayer: Layer {
  public var mode: Mode = .training
  /// The pixels the first layer reads.
  public let designated: DesignatedPixels
  /// α ("mix"): 1 makes the classifier see only what the designated pixels carry.
  public let mix: Float
  /// `[C, H, W]` of the images.
  public let imageShape: [Int]
  /// The sparse first layer: the pattern's kernel and stride (or 2×2, stride 2 on `x ⊙ M`).
  public let first: Conv2D
  /// 3×3 convolutions with ReLU after the first layer.
  public let encoder: Sequential
  /// The transposed convolution back to an image of the input's shape.
  public let decoder: ConvTranspose2D
  private let maskTensor: Tensor?
  private let kernel: (Int, Int), stride: (Int, Int), offset: (Int, Int)

  /// A PRM initialised like PyTorch's layers from `rng`.
  /// - Parameters:
  ///   - imageShape: `[C, H, W]`.
  ///   - width: channels of the encoder.
  ///   - depth: 3×3 convolutions (with ReLU) in the encoder after the first layer.
  public init(imageShape: [Int], designated: DesignatedPixels, width: Int = 16, depth: Int = 2, mix: Float = 0.5,
              using rng: inout some RandomNumberGenerator) {
    precondition(imageShape.count == 3, "a PRM needs [C, H, W] images")
    precondition(mix >= 0 && mix <= 1, "mix must be in [0, 1]")
    self.imageShape = imageShape
    self.designated = designated
    self.mix = mix
    let c = imageShape[0]
    switch designated {
    case let .pattern(p, shift):
      kernel = p.kernel
      stride = p.stride
      offset = (((shift.0 % p.stride.0) + p.stride.0) % p.stride.0, ((shift.1 % p.stride.1) + p.stride.1) % p.stride.1)
      maskTensor = nil
    case let .mask(m):
      precondition(m.height == imageShape[1] && m.width == imageShape[2], "mask \(m.height)×\(m.width) for images \(imageShape)")
      kernel = (2, 2)
      stride = (2, 2)
      offset = (0, 0)
      maskTensor = m.tensor(channels: c)
    }
    first = Conv2D(inputChannels: c, outputChannels: width, kernelHeight: kernel.0, kernelWidth: kernel.1,
                   strideY: stride.0, strideX: stride.1, using: &rng)
    var blocks: [any Layer] = []
    for _ in 0..<depth {
      blocks.append(Conv2D(inputChannels: width, outputChannels: width, kernelSize: 3, padding: 1, using: &rng))
      blocks.append(ReLU())
    }
    encoder = Sequential(blocks)
    decoder = ConvTranspose2D(inputChannels: width, outputChannels: c, kernelHeight: stride.0, kernelWidth: stride.1,
                              strideY: stride.0, strideX: stride.1, using: &rng)
  }

  /// `P(x)`: the image rebuilt from the designated pixels, `[N, C, H, W]` in `(0, 1)`.
  public func manipulate(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    var input = maskTensor.map { x * $0 } ?? x
    // Start the window grid at the pattern's shift; pad the far edges to whole strides.
    let rows = (h - offset.0 + stride.0 - 1) / stride.0, cols = (w - offset.1 + stride.1 - 1) / stride.1
    let needH = offset.0 + rows * stride.0, needW = offset.1 + cols * stride.1
    if offset != (0, 0) || needH != h || needW != w {
      input = input.padded([Padding(0, 0), Padding(0, 0), Padding(0, needH - h), Padding(0, needW - w)])
        .slice(starts: [0, 0, offset.0, offset.1], shape: [n, c, needH - offset.0, needW - offset.1])
    }
    let code = encoder(first(input).relu())
    let decoded = decoder(code)   // [n, c, rows·sy, cols·sx], aligned with the offset grid
    let placed = decoded.padded([Padding(0, 0), Padding(0, 0), Padding(offset.0, 0), Padding(offset.1, 0)])
    return placed.slice(starts: [0, 0, 0, 0], shape: [n, c, h, w]).sigmoid()
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    if mix == 1 { return manipulate(x) }
    return manipulate(x) * mix + x * (1 - mix)
  }
}

extension PRMLayer {
  /// The spec kind `prm`: fields `name`, `pattern` (`v0`…`v5`, default v0) with `shift` `[dy, dx]`,
  /// or `mask` (one `0`/`1` character per pixel, row-major); `width` (16), `depth` (2) and `mix`
  /// α (0.5).
  public static let specBuilder = LayerBuilder(type: "prm", options: ["pattern", "shift", "mask", "width", "depth", "mix"]) {
    s, input, context in
    let (_, h, w) = try context.image(input, for: s.type)
    let designated: DesignatedPixels
    if let bits = try context.option(s, "mask", as: String.self) {
      let values = bits.map { $0 == "1" }
      guard bits.count == h * w, bits.allSatisfy({ $0 == "0" || $0 == "1" }), values.contains(true) else {
        throw context.invalid("prm mask must be \(h * w) characters of 0/1 with at least one 1")
      }
      designated = .mask(PixelMask(height: h, width: w, values: values))
    } else {
      let name = try context.option(s, "pattern", as: String.self) ?? "v0"
      guard let p = PixelPattern(rawValue: name) else {
        throw context.invalid("unknown PRM pattern '\(name)' (patterns: \(PixelPattern.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      let shift = try context.option(s, "shift", as: [Int].self) ?? [0, 0]
      let bound = LayerBuildContext.maximumExtent
      guard shift.count == 2, shift.allSatisfy({ $0.magnitude <= UInt(bound) }) else {
        throw context.invalid("shift is [dy, dx] with |dy|, |dx| ≤ \(bound)")
      }
      designated = .pattern(p, shift: (shift[0], shift[1]))
    }
    let mix = try context.option(s, "mix", as: Float.self) ?? 0.5
    guard mix >= 0, mix <= 1 else { throw context.invalid("mix must be in [0, 1]") }
    let width = try context.positive(context.option(s, "width", as: Int.self) ?? 16, "width")
    let depth = try context.nonNegative(context.option(s, "depth", as: Int.self) ?? 2, "depth")
    guard depth <= LayerBuildContext.maximumNesting else {
      throw context.invalid("depth must be at most \(LayerBuildContext.maximumNesting)")
    }
    _ = try context.elementCount([width, width, 3, 3], of: "an encoder weight")
    let layer = PRMLayer(imageShape: input, designated: designated, width: width, depth: depth, mix: mix, using: &context.rng)
    return (layer, input)
  }
}
