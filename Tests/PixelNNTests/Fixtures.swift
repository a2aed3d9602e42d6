import Foundation
import PixelTensor
import _TestSupport

enum Fixtures {
  static var tinyCNN: SafeTensorsArchive { SharedFixtures.tinyCNN }

  static func temporaryDirectory() -> URL { temporaryFolder("pixelnn") }
}
