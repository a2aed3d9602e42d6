import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.merge` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzMerge {
  static func main() { FuzzTargets.main(FuzzTargets.merge) }
}
