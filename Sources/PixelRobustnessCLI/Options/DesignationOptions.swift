import ArgumentParser
import Foundation
import PixelAnalysis
import PixelDefenses
import PixelMasks

/// Which pixels a PRM designates: `--pattern v0 [--shift dy,dx]`, `--random 25 [--mask-seed S]`
/// or `--mask-png FILE`.
struct DesignationOptions: ParsableArguments {
  @Option(help: "Designated-pixel pattern: v0 (even rows × even columns, 25%), v1, v2 (50%), v3, v4, v5 (25%).")
  var pattern: PatternChoice = .v0
  @Option(help: "Shift of the pattern as DY,DX (pixels, |DY|, |DX| ≤ 1048576).")
  var shift = CommaList<Int>([0, 0])
  @Option(help: "Designate a random K % of the pixels instead of a pattern.")
  var random: Double?
  @Option(help: "Seed of --random.")
  var maskSeed: UInt64 = 0
  @Option(help: "Designate the white pixels of this PNG instead of a pattern.")
  var maskPng: String?

  func validate() throws {
    guard shift.values.count == 2, shift.values.allSatisfy({ $0.magnitude <= 1 << 20 }) else {
      throw ValidationError("--shift is DY,DX with |DY|, |DX| ≤ 1048576.")
    }
    if let random, !(random > 0 && random <= 100) { throw ValidationError("--random must be a percentage in (0, 100].") }
    if random != nil && maskPng != nil { throw ValidationError("use --random or --mask-png, not both.") }
  }

  func designated(height: Int, width: Int) throws -> DesignatedPixels {
    if let random { return .mask(.random(random, height: height, width: width, seed: maskSeed)) }
    if let maskPng {
      return .mask(try MaskSpecification(parsing: maskPng.lowercased().hasSuffix(".png") ? maskPng : maskPng + ".png")
        .resolve(height: height, width: width, map: nil))
    }
    return .pattern(pattern.value, shift: (shift.values[0], shift.values[1]))
  }
}

enum PatternChoice: String, ExpressibleByArgument, CaseIterable {
  case v0, v1, v2, v3, v4, v5
  var value: PixelPattern { PixelPattern(rawValue: rawValue)! }
}
