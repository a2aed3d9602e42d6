import Foundation
import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.safetensors` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzSafeTensors {
  static func main() { FuzzTargets.main(FuzzTargets.safetensors) }
}

/// libFuzzer's test function, for the driver's own `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  FuzzTargets.safetensors(bytes.map { Data(bytes: $0, count: count) } ?? Data())
  return 0
}
