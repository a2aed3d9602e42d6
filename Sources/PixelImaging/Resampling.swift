/// Resizing and cropping as torchvision does them on PIL images (`Resize(S)`, `CenterCrop(C)`):
/// ImageNet-style preprocessing for `folder:` data.
extension Image {
  /// The image resampled to `width × height` with Pillow's antialiased bilinear filter
  /// (`Image.resize(…, BILINEAR)`, the default of torchvision's `Resize`): a triangle filter
  /// whose support widens by the downscale factor, separable, horizontal pass first, with
  /// Pillow's 22-bit fixed-point coefficients and rounding to 8 bits after each pass — so the
  /// result equals Pillow's byte for byte.
  public func resized(width newWidth: Int, height newHeight: Int) -> Image {
    precondition(newWidth > 0 && newHeight > 0, "resize to an empty image")
    var out = self
    if newWidth != width { out = out.horizontalPass(Self.coefficients(input: width, output: newWidth)) }
    if newHeight != height { out = out.verticalPass(Self.coefficients(input: height, output: newHeight)) }
    return out
  }

  /// torchvision's `Resize(size)` with an integer size: the shorter side becomes `size`, the
  /// longer `⌊size · long / short⌋`.
  public func resizedShorterSide(to size: Int) -> Image {
    if width <= height {
      return resized(width: size, height: Int(Double(size) * Double(height) / Double(width)))
    }
    return resized(width: Int(Double(size) * Double(width) / Double(height)), height: size)
  }

  /// torchvision's `CenterCrop`: the `cropWidth × cropHeight` window whose offsets are half
  /// the excess, rounded half to even (Python's `round`).
  /// - Precondition: the crop fits inside the image.
  public func centerCropped(width cropWidth: Int, height cropHeight: Int) -> Image {
    precondition(cropWidth <= width && cropHeight <= height, "crop larger than the image")
    let top = Int((Double(height - cropHeight) / 2).rounded(.toNearestOrEven))
    let left = Int((Double(width - cropWidth) / 2).rounded(.toNearestOrEven))
    var bytes = [UInt8](repeating: 0, count: cropWidth * cropHeight * channels)
    for y in 0..<cropHeight {
      let source = ((top + y) * width + left) * channels
      bytes.replaceSubrange(y * cropWidth * channels..<(y + 1) * cropWidth * channels,
                            with: self.bytes[source..<source + cropWidth * channels])
    }
    return Image(width: cropWidth, height: cropHeight, channels: channels, bytes: bytes)
  }

  /// Pillow's fixed-point precision for 8-bit resampling: 32 − 8 − 2 bits.
  static let precisionBits = 22

  /// For each output index, the first input index and the fixed-point weights (Pillow's
  /// `precompute_coeffs` and `normalize_coeffs_8bpc`, in the same double arithmetic).
  static func coefficients(input: Int, output: Int) -> [(first: Int, weights: [Int32])] {
    let scale = Double(input) / Double(output)
    let filterScale = Swift.max(scale, 1)
    let support = 1.0 * filterScale
    let one = Double(1 << precisionBits), reciprocal = 1 / filterScale
    return (0..<output).map { xx in
      let center = (Double(xx) + 0.5) * scale
      // C's (int) truncates toward zero, as Swift's Int(_:) does.
      let lower = Swift.max(0, Int(center - support + 0.5)), upper = Swift.min(input, Int(center + support + 0.5))
      var weights: [Double] = []
      var total = 0.0
      for x in lower..<Swift.max(lower, upper) {
        let t = Swift.abs((Double(x) - center + 0.5) * reciprocal)
        let w = t < 1 ? 1 - t : 0
        weights.append(w)
        total += w
      }
      return (lower, weights.map { w in
        let k = total != 0 ? w / total : w
        return Int32(k < 0 ? k * one - 0.5 : k * one + 0.5)
      })
    }
  }

  static func clip8(_ accumulated: Int32) -> UInt8 {
    UInt8(Swift.min(255, Swift.max(0, accumulated >> Int32(precisionBits))))
  }

  func horizontalPass(_ taps: [(first: Int, weights: [Int32])]) -> Image {
    let w = taps.count
    var out = [UInt8](repeating: 0, count: w * height * channels)
    let half = Int32(1) << Int32(Self.precisionBits - 1)
    for y in 0..<height {
      for (x, tap) in taps.enumerated() {
        for c in 0..<channels {
          var sum = half
          for (k, weight) in tap.weights.enumerated() {
            sum &+= Int32(bytes[(y * width + tap.first + k) * channels + c]) &* weight
          }
          out[(y * w + x) * channels + c] = Self.clip8(sum)
        }
      }
    }
    return Image(width: w, height: height, channels: channels, bytes: out)
  }

  func verticalPass(_ taps: [(first: Int, weights: [Int32])]) -> Image {
    let h = taps.count
    var out = [UInt8](repeating: 0, count: width * h * channels)
    let half = Int32(1) << Int32(Self.precisionBits - 1)
    for (y, tap) in taps.enumerated() {
      for x in 0..<width {
        for c in 0..<channels {
          var sum = half
          for (k, weight) in tap.weights.enumerated() {
            sum &+= Int32(bytes[((tap.first + k) * width + x) * channels + c]) &* weight
          }
          out[(y * width + x) * channels + c] = Self.clip8(sum)
        }
      }
    }
    return Image(width: width, height: h, channels: channels, bytes: out)
  }
}
