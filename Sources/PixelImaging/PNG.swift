import CPNG
import Foundation
import PixelTensor

/// A PNG that could not be read or written; names the file and the reason libpng gave.
public enum PNGError: Error, Equatable, CustomStringConvertible {
  case unreadable(path: String, reason: String)
  case unwritable(path: String, reason: String)

  public var description: String {
    switch self {
    case let .unreadable(p, r): return "\(p): cannot read PNG: \(r)"
    case let .unwritable(p, r): return "\(p): cannot write PNG: \(r)"
    }
  }
}

/// PNG encoding and decoding through libpng's simplified API (`png_image_*`), which keeps
/// libpng's `setjmp` error handling inside C: Swift cannot call `setjmp`.
public enum PNG {
  static func format(channels: Int) -> png_uint_32 {
    switch channels {
    case 1: return CPNG_FORMAT_GRAY
    case 2: return CPNG_FORMAT_GA
    case 3: return CPNG_FORMAT_RGB
    default: return CPNG_FORMAT_RGBA
    }
  }

  static func message(_ image: inout png_image) -> String {
    withUnsafeBytes(of: &image.message) { raw in
      String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
    }
  }

  /// Reads the PNG at `url`, keeping its channel count (palette images become RGB or RGBA,
  /// 16-bit samples become 8-bit).
  public static func read(from url: URL) throws -> Image {
    var image = png_image()
    image.version = CPNG_IMAGE_VERSION
    guard png_image_begin_read_from_file(&image, url.path) != 0 else {
      let reason = message(&image)
      png_image_free(&image)
      throw PNGError.unreadable(path: url.path, reason: reason.isEmpty ? "not a PNG file" : reason)
    }
    let hasColor = image.format & png_uint_32(PNG_FORMAT_FLAG_COLOR) != 0
    let hasAlpha = image.format & png_uint_32(PNG_FORMAT_FLAG_ALPHA) != 0
    let channels = (hasColor ? 3 : 1) + (hasAlpha ? 1 : 0)
    image.format = format(channels: channels)
    let width = Int(image.width), height = Int(image.height)
    // NOTE: deflate compresses at most about 1032 : 1, so a file of n bytes cannot hold more
    // than ~1032·n bytes of pixels: a 60-byte header announcing 2¹⁶ × 2¹⁶ pixels is refused
    // before anything is allocated.
    let fileBytes = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
    let limit = Swift.min(1 << 30, fileBytes * 1100 + (1 << 16))
    guard width > 0, height > 0, let needed = Shape.checkedCount([width, height, channels], limit: limit) else {
      png_image_free(&image)
      throw PNGError.unreadable(path: url.path, reason: "implausible size \(width)×\(height) for a file of \(fileBytes) bytes")
    }
    var bytes = [UInt8](repeating: 0, count: needed)
    let ok = bytes.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, 0, nil) }
    guard ok != 0 else {
      let reason = message(&image)
      png_image_free(&image)
      throw PNGError.unreadable(path: url.path, reason: reason)
    }
    png_image_free(&image)
    return Image(width: width, height: height, channels: channels, bytes: bytes)
  }

  /// Encodes `image` as PNG bytes.
  public static func encode(_ image: Image) throws -> Data {
    var png = png_image()
    png.version = CPNG_IMAGE_VERSION
    png.width = png_uint_32(image.width)
    png.height = png_uint_32(image.height)
    png.format = format(channels: image.channels)
    var size: Int = 0
    let stride = Int32(image.width * image.channels)
    // First call measures, second writes (libpng's documented two-pass memory write).
    let measured = image.bytes.withUnsafeBytes {
      png_image_write_to_memory(&png, nil, &size, 0, $0.baseAddress, stride, nil)
    }
    guard measured != 0, size > 0 else {
      throw PNGError.unwritable(path: "<memory>", reason: message(&png))
    }
    var out = Data(count: size)
    let ok = out.withUnsafeMutableBytes { dst in
      image.bytes.withUnsafeBytes { src in
        png_image_write_to_memory(&png, dst.baseAddress, &size, 0, src.baseAddress, stride, nil)
      }
    }
    png_image_free(&png)
    guard ok != 0 else { throw PNGError.unwritable(path: "<memory>", reason: message(&png)) }
    return out.prefix(size)
  }

  /// Writes `image` to `url` atomically (temporary file, then rename).
  public static func write(_ image: Image, to url: URL) throws {
    let data: Data
    do { data = try encode(image) } catch PNGError.unwritable(_, let reason) {
      throw PNGError.unwritable(path: url.path, reason: reason)
    }
    try AtomicFile.write(data, to: url)
  }
}
