import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.safetensors` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzSafeTensors {
  static func main() { FuzzTargets.main(FuzzTargets.safetensors) }
}
