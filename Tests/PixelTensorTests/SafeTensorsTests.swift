import Foundation
import Testing
import PixelTensor
import _TestSupport

@Suite("Safetensors reader and writer")
struct SafeTensorsTests {
  /// Builds a file from a raw header and data, as another tool would have written it.
  static func file(header: String, data: [UInt8]) -> Data {
    var d = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { d.append(contentsOf: $0) }
    d.append(contentsOf: Array(header.utf8))
    d.append(contentsOf: data)
    return d
  }

  static func bytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

  func temporaryURL(_ name: String) -> URL {
    temporaryPath("pixelrobust-tests")
      .appendingPathComponent(name)
  }

  @Test("encoding is byte-exact: sorted keys, F32, header padded to 8 bytes")
  func byteExact() {
    let data = SafeTensors.encode(["b": Tensor([1, 2], shape: [2]), "a": Tensor([3], shape: [1, 1])],
                                  metadata: ["seed": "0"])
    let header = #"{"__metadata__":{"seed":"0"},"a":{"dtype":"F32","shape":[1,1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
    var padded = Array(header.utf8)
    while padded.count % 8 != 0 { padded.append(0x20) }
    let expected = Self.file(header: String(decoding: padded, as: UTF8.self), data: Self.bytes([Float(3), 1, 2]))
    #expect(data == expected)
  }

  @Test("write then read round-trips tensors and metadata, atomically")
  func roundTrip() throws {
    var rng = SeededGenerator(seed: 1)
    let tensors = ["conv1.weight": Tensor.normal([4, 1, 3, 3], using: &rng), "scalar": Tensor(2.5),
                   "empty": Tensor.zeros([0, 3]), "name \"quoted\"\n": Tensor([1], shape: [1])]
    let url = temporaryURL("model.safetensors")
    try SafeTensors.write(tensors, metadata: ["pixelrobust.model": #"{"format":"x"}"#], to: url)
    let archive = try SafeTensors.read(from: url)
    #expect(archive.metadata == ["pixelrobust.model": #"{"format":"x"}"#])
    #expect(Set(archive.tensors.keys) == Set(tensors.keys))
    for (k, v) in tensors {
      #expect(archive.tensors[k]?.shape == v.shape)
      #expect(archive.tensors[k]?.scalars == v.scalars)
    }
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path)
    #expect(leftovers == ["model.safetensors"], "a temporary file was left behind")
    try SafeTensors.write(tensors, to: url)
    #expect(try Data(contentsOf: url) == SafeTensors.encode(tensors))
  }

  @Test("F64, F16, BF16, I64, I32 and U8 are read and converted")
  func conversions() throws {
    let f16: [UInt16] = [Float16(1.5).bitPattern, Float16(-2).bitPattern]
    let bf16: [UInt16] = [UInt16(Float(3.0).bitPattern >> 16), UInt16(Float(-0.5).bitPattern >> 16)]
    let data = Self.bytes([Double(0.25), -1e10]) + Self.bytes(f16) + Self.bytes(bf16) + Self.bytes([Int64(7), -3])
      + Self.bytes([Int32(42)]) + [200]
    let header = #"{"d":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"h":{"dtype":"F16","shape":[2],"data_offsets":[16,20]},"#
      + #""b":{"dtype":"BF16","shape":[2],"data_offsets":[20,24]},"i":{"dtype":"I64","shape":[2],"data_offsets":[24,40]},"#
      + #""j":{"dtype":"I32","shape":[1],"data_offsets":[40,44]},"u":{"dtype":"U8","shape":[1],"data_offsets":[44,45]}}"#
    let archive = try SafeTensors.decode(Self.file(header: header, data: data))
    #expect(archive.tensors["d"]?.scalars == [0.25, -1e10])
    #expect(archive.tensors["h"]?.scalars == [1.5, -2])
    #expect(archive.tensors["b"]?.scalars == [3, -0.5])
    #expect(archive.tensors["i"]?.scalars == [7, -3])
    #expect(archive.tensors["j"]?.scalars == [42])
    #expect(archive.tensors["u"]?.scalars == [200])
    #expect(archive.sourceDTypes["b"] == "BF16")
  }

  struct BadFile: Sendable, CustomTestStringConvertible {
    let name: String
    let data: Data
    let expected: @Sendable (SafeTensorsError) -> Bool
    var testDescription: String { name }
  }

  static let badFiles: [BadFile] = [
    BadFile(name: "too short for the size", data: Data([1, 2, 3])) {
      if case .truncated = $0 { return true } else { return false }
    },
    BadFile(name: "header runs past the end", data: file(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: []).dropLast(5)) {
      if case .truncated = $0 { return true } else { return false }
    },
    BadFile(name: "data truncated", data: file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, data: [0, 0, 0, 0])) {
      if case .truncated = $0 { return true } else { return false }
    },
    BadFile(name: "not JSON", data: file(header: "{nope", data: [])) {
      if case .malformedHeader = $0 { return true } else { return false }
    },
    BadFile(name: "missing shape", data: file(header: #"{"a":{"dtype":"F32","data_offsets":[0,4]}}"#, data: [0, 0, 0, 0])) {
      if case .malformedHeader = $0 { return true } else { return false }
    },
    BadFile(name: "unsupported dtype", data: file(header: #"{"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))) {
      if case .unsupportedDType(_, "a", "C64") = $0 { return true } else { return false }
    },
    BadFile(name: "size disagrees with shape", data: file(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: Array(repeating: 0, count: 8))) {
      if case .invalidOffsets = $0 { return true } else { return false }
    },
    BadFile(name: "overlapping tensors", data: file(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, data: Array(repeating: 0, count: 8))) {
      if case .overlappingTensors = $0 { return true } else { return false }
    },
    BadFile(name: "metadata not strings", data: file(header: #"{"__metadata__":{"k":1}}"#, data: [])) {
      if case .malformedHeader = $0 { return true } else { return false }
    },
    BadFile(name: "absurd header size", data: Data([0, 0, 0, 0, 0, 0, 0, 0x10])) {
      if case .malformedHeader = $0 { return true } else { return false }
    },
  ]

  @Test("malformed files give a typed error naming the file", arguments: badFiles)
  func malformed(_ bad: BadFile) throws {
    let url = temporaryURL("bad.safetensors")
    try AtomicFile.write(bad.data, to: url)
    do {
      _ = try SafeTensors.read(from: url)
      Issue.record("\(bad.name): no error")
    } catch let error as SafeTensorsError {
      #expect(bad.expected(error), "\(bad.name): \(error)")
      #expect(error.description.contains(url.path))
    }
  }

  @Test("a missing file is reported, not crashed on")
  func missingFile() {
    #expect(throws: SafeTensorsError.self) { try SafeTensors.read(from: URL(fileURLWithPath: "/nonexistent/x.safetensors")) }
  }
}
