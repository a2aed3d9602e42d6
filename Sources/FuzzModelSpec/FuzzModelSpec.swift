import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.modelSpec` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzModelSpec {
  static func main() { FuzzTargets.main(FuzzTargets.modelSpec) }
}
