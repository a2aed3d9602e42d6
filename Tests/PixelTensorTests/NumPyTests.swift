import Foundation
import Testing
import PixelTensor
import _TestSupport

@Suite("NumPy .npy files")
struct NumPyTests {
  @Test("float32 round trip with the header NumPy writes", arguments: [Shape([]), Shape([5]), Shape([2, 3, 4])])
  func roundTrip(_ shape: Shape) throws {
    var rng = SeededGenerator(seed: 1)
    let t = Tensor.normal(shape, using: &rng)
    let data = NumPy.encode(t)
    #expect((data.count - t.elementCount * 4) % 64 == 0)
    let header = String(decoding: data[10..<(data.count - t.elementCount * 4)], as: UTF8.self)
    #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': "))
    let url = temporaryPath("npy", suffix: ".npy")
    try NumPy.write(t, to: url)
    let back = try NumPy.read(from: url)
    #expect(back.shape == shape && back.scalars == t.scalars)
  }

  @Test("a truncated .npy is a typed error naming the file")
  func truncated() throws {
    let url = temporaryPath("npy", suffix: ".npy")
    try NumPy.encode(Tensor.ones([4])).dropLast(3).write(to: url)
    #expect { try NumPy.read(from: url) } throws: { ($0 as? NumPyError)?.description.contains(url.path) ?? false }
  }
}
