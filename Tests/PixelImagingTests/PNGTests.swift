import Foundation
import Testing
import PixelImaging
import _TestSupport

@Suite("PNG through libpng's simplified API")
struct PNGTests {
  func temporaryURL(_ name: String) -> URL {
    temporaryPath("pixelrobust-png")
      .appendingPathComponent(name)
  }

  @Test("gray, gray+alpha, RGB and RGBA round-trip byte for byte", arguments: [1, 2, 3, 4])
  func roundTrip(channels: Int) throws {
    let bytes = (0..<(5 * 3 * channels)).map { UInt8(($0 * 37) % 256) }
    let image = Image(width: 5, height: 3, channels: channels, bytes: bytes)
    let url = temporaryURL("x.png")
    try PNG.write(image, to: url)
    #expect(try PNG.read(from: url) == image)
  }

  @Test("a corrupt PNG gives a typed error naming the file")
  func corrupt() throws {
    let url = temporaryURL("bad.png")
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try Data([0x89, 0x50, 0x4E, 0x47, 1, 2, 3]).write(to: url)
    #expect {
      try PNG.read(from: url)
    } throws: { error in
      guard let e = error as? PNGError, case .unreadable(let path, _) = e else { return false }
      return path == url.path
    }
  }

  @Test("RGB converts to luminance and gray to three equal planes")
  func channelConversion() {
    let rgb = Image(width: 1, height: 1, channels: 3, bytes: [255, 0, 0])
    #expect(Swift.abs(rgb.planes(channels: 1)[0] - 0.299) < 1e-6)
    let gray = Image(width: 1, height: 1, channels: 1, bytes: [51])
    #expect(gray.planes(channels: 3) == [0.2, 0.2, 0.2])
  }
}
