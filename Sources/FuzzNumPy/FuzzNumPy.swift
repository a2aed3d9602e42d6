import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.npy` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzNumPy {
  static func main() { FuzzTargets.main(FuzzTargets.npy) }
}
