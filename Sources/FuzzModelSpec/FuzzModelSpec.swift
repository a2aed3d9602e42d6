import Foundation
import PixelFuzzTargets

/// The fuzz target of `FuzzTargets.modelSpec` (see `scripts/fuzz.sh`); without `-DFUZZING`, a replay of files.
@main enum FuzzModelSpec {
  static func main() { FuzzTargets.main(FuzzTargets.modelSpec) }
}

/// libFuzzer's test function, for the driver's own `main` when the linker picks that one.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  FuzzTargets.modelSpec(bytes.map { Data(bytes: $0, count: count) } ?? Data())
  return 0
}
