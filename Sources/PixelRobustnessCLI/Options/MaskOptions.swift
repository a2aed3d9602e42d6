import ArgumentParser
import Foundation
import PixelAnalysis
import PixelMasks

/// `--mask` and `--map`, shared by the commands that restrict an attack or the smoothing noise to
/// a pixel set.
struct MaskOptions: ParsableArguments {
  @Option(help: "Pixel mask: top:K, bottom:K, random:K[@SEED], pattern:vN[@DY,DX] or FILE.png (white pixels are in).")
  var mask: String?
  @Option(help: "Gradient map (G.npy from gradient-map) for ranked masks.")
  var map: String?

  func validate() throws {
    guard let mask else { return }
    let spec: MaskSpecification
    do { spec = try MaskSpecification(parsing: mask) } catch { throw ValidationError("\(error).") }
    if spec.needsMap && map == nil { throw ValidationError("--mask \(mask) ranks pixels of a gradient map: add --map G.npy.") }
  }

  /// The mask for `height × width` images (random masks seeded by `seed` unless they name one),
  /// announced on stderr; `nil` without `--mask`.
  func resolve(height: Int, width: Int, seed: UInt64, announcing what: String = "mask") throws -> PixelMask? {
    guard let mask else { return nil }
    let pixels = try MaskSpecification(parsing: mask, defaultSeed: seed).resolve(height: height, width: width,
                                                                               mapFile: map.map(URL.init(cliPath:)))
    Console.note("\(what) \(mask): \(pixels)")
    return pixels
  }
}
