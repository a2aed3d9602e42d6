/// An 8-bit image in row-major, interleaved layout (`height × width × channels`).
public struct Image: Sendable, Equatable {
  /// Width in pixels.
  public var width: Int
  /// Height in pixels.
  public var height: Int
  /// 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA).
  public var channels: Int
  /// `height · width · channels` bytes, row by row.
  public var bytes: [UInt8]

  /// Wraps interleaved bytes.
  /// - Precondition: `bytes.count == width · height · channels` and `channels` is 1…4.
  public init(width: Int, height: Int, channels: Int, bytes: [UInt8]) {
    precondition((1...4).contains(channels), "an image has 1 to 4 channels, not \(channels)")
    precondition(bytes.count == width * height * channels,
                 "\(bytes.count) bytes for a \(width)×\(height)×\(channels) image")
    self.width = width
    self.height = height
    self.channels = channels
    self.bytes = bytes
  }

  /// Pixel values in `0…1` as `[channels', height, width]` planes, converted to `targetChannels`
  /// (1: luminance `0.299 R + 0.587 G + 0.114 B`; 3: gray replicated; alpha dropped).
  public func planes(channels targetChannels: Int) -> [Float] {
    precondition(targetChannels == 1 || targetChannels == 3, "convert to 1 or 3 channels, not \(targetChannels)")
    let plane = width * height
    var out = [Float](repeating: 0, count: targetChannels * plane)
    let color = channels >= 3
    for p in 0..<plane {
      let base = p * channels
      let r = Float(bytes[base]) / 255
      let g = color ? Float(bytes[base + 1]) / 255 : r
      let b = color ? Float(bytes[base + 2]) / 255 : r
      if targetChannels == 1 {
        out[p] = color ? 0.299 * r + 0.587 * g + 0.114 * b : r
      } else {
        out[p] = r; out[plane + p] = g; out[2 * plane + p] = b
      }
    }
    return out
  }
}
