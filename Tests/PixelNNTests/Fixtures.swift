import Foundation
import PixelTensor

enum Fixtures {
  static let tinyCNN: SafeTensorsArchive = {
    let url = Bundle.module.url(forResource: "tiny_cnn", withExtension: "safetensors", subdirectory: "Fixtures")!
    return try! SafeTensors.read(from: url)
  }()

  static func temporaryDirectory() -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pixelnn-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}
