import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.checkpoint` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzCheckpoint {
  static func main() { FuzzTargets.main(FuzzTargets.checkpoint) }
}
