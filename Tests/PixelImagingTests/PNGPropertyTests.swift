import Foundation
import Testing
import PixelTensor
@testable import PixelImaging
import _TestSupport

@Suite("PNG properties")
struct PNGPropertyTests {
  @Test("random images of 1–4 channels round-trip through libpng; a truncation is a typed error or, cut only in the trailer, the same image")
  func roundTripAndTruncation() throws {
    var rng = SeededGenerator(seed: 12)
    let folder = temporaryPath("png-props")
    for trial in 0..<24 {
      let (w, h, c) = (1 + Int(rng.next() % 17), 1 + Int(rng.next() % 9), 1 + trial % 4)
      let image = Image(width: w, height: h, channels: c, bytes: (0..<(w * h * c)).map { _ in UInt8(rng.next() % 256) })
      let url = folder.appendingPathComponent("\(trial).png")
      try PNG.write(image, to: url)
      #expect(try PNG.read(from: url) == image)
      let data = try Data(contentsOf: url)
      for cut in stride(from: 0, to: data.count, by: Swift.max(1, data.count / 13)) {
        try data.prefix(cut).write(to: url)
        // NOTE: libpng's simplified reader does not need the IEND trailer once the image data
        // is complete; what it must never do is return other pixels than were written.
        do {
          let read = try PNG.read(from: url)
          #expect(read == image && cut >= data.count - 24, "\(trial) cut to \(cut) of \(data.count) decoded other pixels")
        } catch {
          #expect(error is PNGError, "\(trial) cut to \(cut): \(error)")
        }
      }
    }
  }
}
