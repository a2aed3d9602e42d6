import Foundation
import Testing
import PixelNN
import PixelTensor
import _TestSupport
@testable import PixelONNX

/// Model files are untrusted input: every malformed or hostile shape is a typed error naming the
/// file and the node or tensor, and nothing outside the model's folder is ever read.
@Suite("ONNX import refuses bad and hostile files")
struct ONNXRejectionTests {
  static func expectError(_ body: () throws -> Void, _ contains: [String], sourceLocation: SourceLocation = #_sourceLocation) {
    do {
      try body()
      Issue.record("no error; expected one containing \(contains)", sourceLocation: sourceLocation)
    } catch let error as ONNXError {
      let text = error.description
      for part in contains { #expect(text.contains(part), "\(text)", sourceLocation: sourceLocation) }
    } catch {
      Issue.record("not an ONNXError: \(error)", sourceLocation: sourceLocation)
    }
  }

  static func file(_ bytes: Data) throws -> URL {
    let url = temporaryFolder("onnx").appendingPathComponent("model.onnx")
    try bytes.write(to: url)
    return url
  }

  @Test("truncated and garbage protobuf")
  func unreadable() throws {
    let bytes = try Data(contentsOf: ONNXFixtures.url("cnn_bn_folded"))
    for cut in [1, bytes.count / 3, bytes.count / 2, bytes.count - 7] {
      let url = try Self.file(bytes.prefix(cut))
      Self.expectError({ _ = try ONNXImporter.read(url) }, [url.path])
    }
    var rng = SeededGenerator(seed: 3)
    let garbage = Data((0..<4096).map { _ in UInt8.random(in: 0...255, using: &rng) })
    let url = try Self.file(garbage)
    Self.expectError({ _ = try ONNXImporter.read(url) }, [url.path, "not a readable ONNX model"])
  }

  /// Edits of a decoded fixture and the words the error must contain.
  static let graphEdits: [(String, @Sendable (inout Onnx_ModelProto) -> Void, [String])] = [
    ("unknown operator", { $0.graph.node[1].opType = "Gelu" }, ["(Gelu)", "not supported", "Relu, LeakyRelu"]),
    ("misspelt operator", { $0.graph.node[1].opType = "Rellu" }, ["(Rellu)", "nearest supported operator is Relu"]),
    ("foreign domain", { $0.graph.node[0].domain = "com.microsoft" }, ["domain 'com.microsoft'"]),
    ("cycle", { m in m.graph.node[1].input[0] = m.graph.node[2].output[0] }, ["cycle"]),
    ("value never defined", { $0.graph.node[2].input[0] = "ghost" }, ["'ghost' is used but never defined"]),
    ("value defined twice", { m in m.graph.node[2].output[0] = m.graph.node[1].output[0] }, ["defined twice"]),
    ("weight that does not fit", { m in
      let i = m.graph.initializer.firstIndex { $0.dims.count == 2 }!
      m.graph.initializer[i].dims = [m.graph.initializer[i].dims[0] * 2, m.graph.initializer[i].dims[1] / 2]
    }, ["does not fit"]),
    ("absurd initializer shape", { m in
      var t = Onnx_TensorProto()
      t.name = "huge"; t.dims = [1 << 20, 1 << 20]; t.dataType = 1
      m.graph.initializer.append(t)
    }, ["'huge'", "exceeds"]),
    ("raw data of the wrong length", { m in
      m.graph.initializer[0].rawData = m.graph.initializer[0].rawData.dropLast(4)
    }, ["raw data holds"]),
    ("asymmetric pads", { m in
      var pads = Onnx_AttributeProto()
      pads.name = "pads"; pads.type = .ints; pads.ints = [0, 0, 1, 1]
      m.graph.node[0].attribute.removeAll { $0.name == "pads" }
      m.graph.node[0].attribute.append(pads)
    }, ["not symmetric"]),
    ("unknown attribute", { m in
      var a = Onnx_AttributeProto()
      a.name = "frobnicate"; a.type = .int; a.i = 1
      m.graph.node[0].attribute.append(a)
    }, ["attribute 'frobnicate'"]),
    ("two outputs", { m in m.graph.output.append(m.graph.output[0]) }, ["one output"]),
  ]

  @Test("malformed graphs name the node", arguments: graphEdits.indices)
  func malformed(_ index: Int) throws {
    let (name, edit, words) = Self.graphEdits[index]
    var proto = try ONNXFixtures.proto("cnn_bn_folded")
    edit(&proto)
    let folder = temporaryFolder("onnx")
    Self.expectError({ _ = try ONNXFixtures.importing(proto, in: folder) }, words + [folder.path])
    _ = name
  }

  /// The external-data fixture copied into `folder` as `model.onnx`, with its first external
  /// tensor's entries replaced by `entries` (nil keeps them) and the data file beside it unless
  /// `withData` is false.
  static func externalModel(in folder: URL, entries: [String: String]? = nil, withData: Bool = true) throws -> URL {
    var proto = try ONNXFixtures.proto("external/model")
    if let entries {
      let i = proto.graph.initializer.firstIndex { $0.dataLocation == .external }!
      proto.graph.initializer[i].externalData = entries.sorted { $0.key < $1.key }.map { k, v in
        var e = Onnx_StringStringEntryProto()
        e.key = k; e.value = v
        return e
      }
    }
    let url = folder.appendingPathComponent("model.onnx")
    try proto.serializedData().write(to: url)
    if withData {
      try FileManager.default.copyItem(at: ONNXFixtures.folder.appendingPathComponent("external/model.onnx.data"),
                                       to: folder.appendingPathComponent("model.onnx.data"))
    }
    return url
  }

  @Test("external data: missing, out of range, and every way out of the model's folder", arguments: [
    ("missing file", nil, false, ["model.onnx.data", "cannot be opened"]),
    ("offset past the end", ["location": "model.onnx.data", "offset": "1000000"], true, ["offset 1000000 is past the end"]),
    ("range past the end", ["location": "model.onnx.data", "offset": "2880"], true, ["is past the end"]),
    ("length that does not match", ["location": "model.onnx.data", "offset": "0", "length": "400"], true, ["length 400 does not match"]),
    ("negative offset", ["location": "model.onnx.data", "offset": "-4"], true, ["not a byte count"]),
    ("absolute path", ["location": "/etc/passwd"], true, ["plain relative path"]),
    ("parent folder", ["location": "../secret.bin"], true, ["plain relative path"]),
    ("nested parent", ["location": "sub/../../secret.bin"], true, ["plain relative path"]),
    ("no location", ["offset": "0"], true, ["no location"]),
  ] as [(String, [String: String]?, Bool, [String])])
  func externalData(name: String, entries: [String: String]?, withData: Bool, words: [String]) throws {
    let folder = temporaryFolder("onnx")
    let url = try Self.externalModel(in: folder, entries: entries, withData: withData)
    Self.expectError({ _ = try ONNXImporter.read(url) }, words + [url.path])
    _ = name
  }

  @Test("links out of the folder are refused, and so is a symbolic link inside it")
  func links() throws {
    let root = temporaryFolder("onnx")
    let outside = root.appendingPathComponent("outside"), inside = root.appendingPathComponent("model")
    try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: inside, withIntermediateDirectories: true)
    let secret = outside.appendingPathComponent("secret.bin")
    try Data(count: 4096).write(to: secret)
    try FileManager.default.createSymbolicLink(atPath: inside.appendingPathComponent("out.bin").path, withDestinationPath: "../outside/secret.bin")
    try FileManager.default.createSymbolicLink(atPath: inside.appendingPathComponent("sub").path, withDestinationPath: outside.path)
    try FileManager.default.linkItem(at: secret, to: inside.appendingPathComponent("hard.bin"))
    let url = try Self.externalModel(in: inside)
    try FileManager.default.createSymbolicLink(atPath: inside.appendingPathComponent("alias.bin").path, withDestinationPath: "model.onnx.data")
    for (location, words) in [("out.bin", ["leads out of the model's folder"]), ("sub/secret.bin", ["leads out of the model's folder"]),
                              ("hard.bin", ["hard links"]), ("alias.bin", ["symbolic link"])] {
      let model = try Self.externalModel(in: temporaryFolder("onnx-link"), entries: ["location": location])
      // The edited model must sit beside the links: move it into `inside`.
      let target = inside.appendingPathComponent("edited-\(location.replacingOccurrences(of: "/", with: "_")).onnx")
      try FileManager.default.moveItem(at: model, to: target)
      Self.expectError({ _ = try ONNXImporter.read(target) }, words + [location])
    }
    // The untouched model beside those links still imports.
    #expect(throws: Never.self) { _ = try ONNXImporter.read(url) }
  }
}
