import ArgumentParser
import Foundation
import PixelAnalysis
import PixelDefenses
import PixelMasks
import PixelNN

/// Which pixels a PRM designates: `--pattern v0 [--shift dy,dx]`, `--random 25 [--mask-seed S]`
/// or `--mask-png FILE`.
struct DesignationOptions: ParsableArguments {
  @Option(help: "Designated-pixel pattern: v0 (even rows × even columns, 25%), v1, v2 (50%), v3, v4, v5 (25%).")
  var pattern: String = "v0"
  @Option(help: "Shift of the pattern as DY,DX.")
  var shift: String = "0,0"
  @Option(help: "Designate a random K % of the pixels instead of a pattern.")
  var random: Double?
  @Option(help: "Seed of --random.")
  var maskSeed: UInt64 = 0
  @Option(help: "Designate the white pixels of this PNG instead of a pattern.")
  var maskPng: String?

  func validate() throws {
    guard PixelPattern(rawValue: pattern) != nil else { throw ValidationError("--pattern must be one of v0…v5.") }
    guard shift.split(separator: ",").compactMap({ Int($0) }).count == 2 else { throw ValidationError("--shift is DY,DX.") }
    if let random, !(random > 0 && random <= 100) { throw ValidationError("--random must be a percentage in (0, 100].") }
    if random != nil && maskPng != nil { throw ValidationError("use --random or --mask-png, not both.") }
  }

  func designated(height: Int, width: Int) throws -> DesignatedPixels {
    if let random { return .mask(.random(random, height: height, width: width, seed: maskSeed)) }
    if let maskPng {
      return .mask(try MaskSpecification(parsing: maskPng.lowercased().hasSuffix(".png") ? maskPng : maskPng + ".png")
        .resolve(height: height, width: width, map: nil))
    }
    let s = shift.split(separator: ",").compactMap { Int($0) }
    return .pattern(PixelPattern(rawValue: pattern)!, shift: (s[0], s[1]))
  }
}
