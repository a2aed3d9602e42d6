import Foundation
import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.cifar` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzCIFAR {
  static func main() { FuzzTargets.main(FuzzTargets.cifar) }
}

/// libFuzzer's test function, for the driver's own `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  FuzzTargets.cifar(bytes.map { Data(bytes: $0, count: count) } ?? Data())
  return 0
}
