import Foundation
import PixelAttacks
import PixelMasks
import PixelImaging
import PixelTensor

/// How a command line names a pixel mask: `top:K`, `bottom:K` or `random:K[@SEED]` (K % of
/// the pixels of a gradient map), `pattern:v0[@DY,DX]` (a PRM pattern, optionally shifted), or
/// the path of a PNG whose white pixels may change.
public enum MaskSpecification: Equatable, Sendable, CustomStringConvertible {
  case top(Double)
  case bottom(Double)
  case random(Double, seed: UInt64)
  case pattern(PixelPattern, shift: (Int, Int))
  case png(URL)

  public static func == (a: Self, b: Self) -> Bool { a.description == b.description }

  /// Parses the command-line syntax; `defaultSeed` seeds `random:K` without `@SEED`.
  /// - Throws: ``AttackError/invalidMaskSpec(_:)`` naming the text and the problem.
  public init(parsing text: String, defaultSeed: UInt64 = 0) throws {
    func percent(_ s: Substring) throws -> Double {
      guard let v = Double(s), v > 0, v <= 100 else { throw AttackError.invalidMaskSpec("'\(text)': K must be in (0, 100]") }
      return v
    }
    if text.hasPrefix("top:") { self = .top(try percent(text.dropFirst(4))); return }
    if text.hasPrefix("bottom:") { self = .bottom(try percent(text.dropFirst(7))); return }
    if text.hasPrefix("random:") {
      let parts = text.dropFirst(7).split(separator: "@")
      guard let first = parts.first else { throw AttackError.invalidMaskSpec("'\(text)'") }
      let seed = parts.count > 1 ? UInt64(parts[1]) : defaultSeed
      guard let seed else { throw AttackError.invalidMaskSpec("'\(text)': the seed after @ must be an integer") }
      self = .random(try percent(first), seed: seed)
      return
    }
    if text.hasPrefix("pattern:") {
      let parts = text.dropFirst(8).split(separator: "@")
      guard let name = parts.first, let p = PixelPattern(rawValue: String(name)) else {
        throw AttackError.invalidMaskSpec("'\(text)': patterns are \(PixelPattern.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      var shift = (0, 0)
      if parts.count > 1 {
        let s = parts[1].split(separator: ",", omittingEmptySubsequences: false).map { Int($0) }
        // NOTE: shifts only matter modulo the pattern's period; bounding them keeps the
        // pattern arithmetic far from overflow.
        guard s.count == 2, let dy = s[0], let dx = s[1], dy.magnitude <= 1 << 20, dx.magnitude <= 1 << 20 else {
          throw AttackError.invalidMaskSpec("'\(text)': the shift after @ is DY,DX, integers with |DY|, |DX| ≤ 1048576")
        }
        shift = (dy, dx)
      }
      self = .pattern(p, shift: shift)
      return
    }
    guard text.lowercased().hasSuffix(".png") else {
      throw AttackError.invalidMaskSpec("'\(text)': use top:K, bottom:K, random:K[@SEED], pattern:vN[@DY,DX] or a .png file")
    }
    self = .png(URL(fileURLWithPath: text))
  }

  /// Whether the mask is ranked from a gradient map (`top:K`, `bottom:K`).
  public var needsMap: Bool {
    switch self {
    case .top, .bottom: return true
    default: return false
    }
  }

  /// The mask for images of `height × width`, reading the map from `mapFile` (checked by
  /// ``GradientMapFile/read(from:)``) when the mask is ranked.
  public func resolve(height: Int, width: Int, mapFile: URL?) throws -> PixelMask {
    let map = try needsMap ? mapFile.map { try GradientMapFile.read(from: $0) } : nil
    return try resolve(height: height, width: width, map: map)
  }

  public var description: String {
    switch self {
    case .top(let k): return "top:\(k)"
    case .bottom(let k): return "bottom:\(k)"
    case let .random(k, seed): return "random:\(k)@\(seed)"
    case let .pattern(p, s): return "pattern:\(p.rawValue)@\(s.0),\(s.1)"
    case .png(let u): return u.path
    }
  }

  /// The mask for images of `height × width`; `map` (`[H, W]` or `[C, H, W]`) is needed for
  /// ranked masks. Throws for a missing map, a map of another rank, a size mismatch, an
  /// unreadable PNG or an empty mask.
  public func resolve(height: Int, width: Int, map: Tensor?) throws -> PixelMask {
    let mask: PixelMask
    switch self {
    case .top(let k), .bottom(let k):
      guard let map else { throw AttackError.invalidMaskSpec("\(description) needs a gradient map (--map G.npy)") }
      guard map.rank == 2 || map.rank == 3 else { throw AttackError.maskShape(expected: [height, width], got: map.shape.dims) }
      let (h, w, _) = PixelMask.pixelValues(map)
      guard h == height, w == width else { throw AttackError.maskShape(expected: [height, width], got: [h, w]) }
      if case .top = self { mask = .top(k, of: map) } else { mask = .bottom(k, of: map) }
    case let .random(k, seed):
      mask = .random(k, height: height, width: width, seed: seed)
    case let .pattern(p, shift):
      mask = .pattern(p, height: height, width: width, shift: shift)
    case .png(let url):
      let image = try PNG.read(from: url)
      guard image.height == height, image.width == width else {
        throw AttackError.maskShape(expected: [height, width], got: [image.height, image.width])
      }
      let gray = image.planes(channels: 1)
      mask = PixelMask(height: height, width: width, values: gray.map { $0 >= 0.5 })
      if mask.count == 0 { throw AttackError.emptyMask("in \(url.path) (no white pixel)") }
    }
    if mask.count == 0 { throw AttackError.emptyMask(description) }
    return mask
  }
}
