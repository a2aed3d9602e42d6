import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.png` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzPNG {
  static func main() { FuzzTargets.main(FuzzTargets.png) }
}
