import Foundation
import PixelTensor
import _TestSupport

/// The PyTorch reference fixtures shipped in `Fixtures/` (copied from the team's shared
/// fixtures; see `Fixtures/README.md`).
enum Fixtures {
  static func load(_ name: String) throws -> SafeTensorsArchive {
    guard let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures") else {
      throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: "Fixtures/\(name).safetensors"])
    }
    return try SafeTensors.read(from: url)
  }

  static let ops: SafeTensorsArchive = try! load("ops")
  static var tinyCNN: SafeTensorsArchive { SharedFixtures.tinyCNN }
}

extension SafeTensorsArchive {
  /// The tensor `name`; fails the calling test loudly when the fixture lacks it.
  subscript(_ name: String) -> Tensor {
    guard let t = tensors[name] else { preconditionFailure("fixture has no tensor '\(name)'") }
    return t
  }
}
