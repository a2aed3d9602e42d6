import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.cifar` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzCIFAR {
  static func main() { FuzzTargets.main(FuzzTargets.cifar) }
}
