import Foundation
import Testing
import PixelImaging
import PixelTensor
import _TestSupport

/// References from `scripts/make_jpeg_fixtures.py`: Pillow 13's decoded pixels and torchvision's
/// `Resize(S)` + `CenterCrop(C)` on the PIL image.
@Suite("JPEG through libjpeg-turbo, resized as torchvision does")
struct JPEGTests {
  static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

  static func reference(_ name: String) throws -> [UInt8] {
    try NumPy.read(from: folder.appendingPathComponent(name + ".npy")).scalars.map { UInt8($0) }
  }

  @Test("decoded pixels equal Pillow's", arguments: ["rgb420", "rgb444", "gray"])
  func decode(_ name: String) throws {
    let image = try JPEG.read(from: Self.folder.appendingPathComponent(name + ".jpg"))
    #expect(image.channels == (name == "gray" ? 1 : 3))
    #expect(image.bytes == (try Self.reference(name + ".decoded")))
  }

  @Test("Resize(S) then CenterCrop(C) equals torchvision's on PIL, byte for byte",
        arguments: ["rgb420", "rgb444", "gray"], [(24, 20), (10, 9), (64, 50)])
  func resizeAndCrop(_ name: String, _ sizes: (Int, Int)) throws {
    let image = try JPEG.read(from: Self.folder.appendingPathComponent(name + ".jpg"))
    let out = image.resizedShorterSide(to: sizes.0).centerCropped(width: sizes.1, height: sizes.1)
    let reference = try Self.reference("\(name).r\(sizes.0)_c\(sizes.1)")
    #expect(out.width == sizes.1 && out.height == sizes.1)
    let worst = zip(out.bytes, reference).map { abs(Int($0) - Int($1)) }.max() ?? 0
    #expect(worst == 0, "largest difference \(worst)")
  }

  @Test("truncated, corrupt and empty JPEGs give a typed error naming the file")
  func corrupt() throws {
    let bytes = try Data(contentsOf: Self.folder.appendingPathComponent("rgb420.jpg"))
    let folder = temporaryPath("pixelrobust-jpeg")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var flipped = bytes
    for i in stride(from: 200, to: flipped.count - 2, by: 7) { flipped[i] ^= 0x5A }
    for (name, data) in [("empty", Data()), ("header", bytes.prefix(20)), ("half", bytes.prefix(bytes.count / 2)),
                         ("flipped", flipped), ("text", Data("not a jpeg".utf8))] {
      let url = folder.appendingPathComponent(name + ".jpg")
      try data.write(to: url)
      #expect {
        _ = try JPEG.read(from: url)
      } throws: { error in
        guard let e = error as? JPEGError, case .unreadable(let path, _) = e else { return false }
        return path == url.path && !e.description.isEmpty
      }
    }
  }
}
