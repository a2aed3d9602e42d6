import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.idx` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzIDX {
  static func main() { FuzzTargets.main(FuzzTargets.idx) }
}
