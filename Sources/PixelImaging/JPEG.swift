import CTurboJPEG
import Foundation
import PixelTensor

/// A JPEG that could not be read; names the file and the reason libjpeg-turbo gave.
public enum JPEGError: Error, Equatable, CustomStringConvertible {
  case unreadable(path: String, reason: String)

  public var description: String {
    switch self {
    case let .unreadable(p, r): return "\(p): cannot read JPEG: \(r)"
    }
  }
}

/// JPEG decoding through libjpeg-turbo's TurboJPEG API, which reports errors by return code
/// (libjpeg's own API longjmps, which Swift cannot survive). The decoder is the one Pillow
/// uses, with the same defaults (accurate integer IDCT, fancy upsampling), so decoded pixels
/// equal Pillow's. Warnings — a truncated or corrupt stream that libjpeg would pad with grey —
/// are errors: a damaged image is refused, not silently altered.
public enum JPEG {
  /// The largest image decoded: 2²⁸ bytes of pixels (16384 × 16384 RGB), checked before allocating.
  public static let maximumBytes = 1 << 28

  /// Reads the JPEG at `url` as gray (1 channel) when it is grayscale, else RGB.
  public static func read(from url: URL) throws -> Image {
    let data: Data
    do { data = try FileBytes.read(url) } catch let e as FileReadError {
      throw JPEGError.unreadable(path: url.path, reason: e.reason)
    }
    return try decode(data, path: url.path)
  }

  /// Decodes JPEG bytes; `path` names the source in errors.
  public static func decode(_ data: Data, path: String) throws -> Image {
    guard let handle = tjInitDecompress() else { throw JPEGError.unreadable(path: path, reason: "cannot start the decoder") }
    defer { tjDestroy(handle) }
    func failure() -> JPEGError { .unreadable(path: path, reason: String(cString: tjGetErrorStr2(handle))) }
    return try data.withUnsafeBytes { raw -> Image in
      guard let base = raw.bindMemory(to: UInt8.self).baseAddress, raw.count > 0 else {
        throw JPEGError.unreadable(path: path, reason: "the file is empty")
      }
      var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
      guard tjDecompressHeader3(handle, base, UInt(raw.count), &width, &height, &subsampling, &colorspace) == 0 else {
        throw failure()
      }
      guard colorspace != Int32(TJCS_CMYK.rawValue), colorspace != Int32(TJCS_YCCK.rawValue) else {
        throw JPEGError.unreadable(path: path, reason: "CMYK JPEGs are not supported; convert the image to RGB")
      }
      let channels = colorspace == Int32(TJCS_GRAY.rawValue) ? 1 : 3
      guard width > 0, height > 0, let count = Shape.checkedCount([Int(width), Int(height), channels], limit: maximumBytes) else {
        throw JPEGError.unreadable(path: path, reason: "implausible size \(width)×\(height)")
      }
      var bytes = [UInt8](repeating: 0, count: count)
      let format = channels == 1 ? TJPF_GRAY : TJPF_RGB
      let status = bytes.withUnsafeMutableBufferPointer {
        tjDecompress2(handle, base, UInt(raw.count), $0.baseAddress, width, 0, height, Int32(format.rawValue), TJFLAG_STOPONWARNING)
      }
      guard status == 0 else { throw failure() }
      return Image(width: Int(width), height: Int(height), channels: channels, bytes: bytes)
    }
  }
}
