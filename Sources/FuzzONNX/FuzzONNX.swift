import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.onnx` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzONNX {
  static func main() { FuzzTargets.main(FuzzTargets.onnx) }
}
