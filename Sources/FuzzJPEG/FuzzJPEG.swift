import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.jpeg` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzJPEG {
  static func main() { FuzzTargets.main(FuzzTargets.jpeg) }
}
