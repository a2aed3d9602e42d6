import Foundation
import Testing
import PixelTensor
@testable import PixelNN
import _TestSupport

@Suite("Model specs, checkpoints and PyTorch import")
struct ImportTests {
  static let tinySpecJSON = """
    {"format":"pixelrobust-model/1","input":[1,12,12],"classes":10,"layers":[
      {"type":"conv2d","name":"conv1","out":4,"kernel":3,"padding":1},{"type":"ACT"},{"type":"maxpool2d","kernel":2},
      {"type":"conv2d","name":"conv2","out":8,"kernel":3},{"type":"ACT"},{"type":"maxpool2d","kernel":2},
      {"type":"flatten"},{"type":"linear","name":"fc","out":10}]}
    """

  static func tinySpec(_ act: String) throws -> ModelSpec {
    try ModelSpec.decode(Data(tinySpecJSON.replacingOccurrences(of: "ACT", with: act).utf8), source: "tiny")
  }

  /// The fixture's weights for one activation, as a PyTorch state_dict file.
  static func stateDict(_ act: String, in dir: URL, extra: [String: Tensor] = [:]) throws -> URL {
    var tensors: [String: Tensor] = extra
    for (k, v) in Fixtures.tinyCNN.tensors where k.hasPrefix("\(act).") && !k.contains("grad") {
      let name = String(k.dropFirst(act.count + 1))
      if ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias", "fc.weight", "fc.bias"].contains(name) { tensors[name] = v }
    }
    let url = dir.appendingPathComponent("\(act)-state.safetensors")
    try SafeTensors.write(tensors, to: url)
    return url
  }

  @Test("importing tiny_cnn through a spec reproduces PyTorch's logits to 1e-4", arguments: ["relu", "softplus"])
  func importReproducesLogits(_ act: String) throws {
    let dir = Fixtures.temporaryDirectory()
    let model = try Checkpoint.importWeights(spec: Self.tinySpec(act), weights: Self.stateDict(act, in: dir))
    let logits = withoutGradients { model.logits(Fixtures.tinyCNN.tensors["x"]!) }
    #expect(relativeError(logits, Fixtures.tinyCNN.tensors["\(act).logits"]!) <= 1e-4)
  }

  @Test("strict import lists every missing key, unexpected key and shape mismatch")
  func strictImport() throws {
    let dir = Fixtures.temporaryDirectory()
    var tensors = try SafeTensors.read(from: Self.stateDict("relu", in: dir)).tensors
    tensors["conv2.bias"] = nil
    tensors["fc.weight"] = .zeros([10, 33])
    tensors["head.weight"] = .zeros([1])
    let url = dir.appendingPathComponent("bad.safetensors")
    try SafeTensors.write(tensors, to: url)
    #expect(throws: CheckpointError.stateMismatch(path: url.path, missing: ["conv2.bias"], unexpected: ["head.weight"],
                                                  shapeMismatches: ["fc.weight: model [10, 32], file [10, 33]"])) {
      try Checkpoint.importWeights(spec: Self.tinySpec("relu"), weights: url)
    }
  }

  @Test("batch norm's num_batches_tracked is accepted and ignored; buffers use PyTorch names")
  func batchNormImport() throws {
    let spec = ModelSpec(input: [2, 4, 4], classes: 3, layers: [
      LayerSpec(type: "conv2d", name: "conv", out: 2, kernel: 3, bias: false), LayerSpec(type: "batchnorm2d", name: "bn"),
      LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 3)])
    let model = try Model(spec: spec, seed: 1)
    #expect(model.stateTensors.keys.sorted() == ["bn.bias", "bn.running_mean", "bn.running_var", "bn.weight", "conv.weight",
                                                 "fc.bias", "fc.weight"])
    var tensors = model.stateTensors
    tensors["bn.num_batches_tracked"] = Tensor(7)
    tensors["bn.running_mean"] = Tensor([0.5, -0.5], shape: [2])
    let url = Fixtures.temporaryDirectory().appendingPathComponent("bn.safetensors")
    try SafeTensors.write(tensors, to: url)
    let imported = try Checkpoint.importWeights(spec: spec, weights: url)
    #expect(imported.stateTensors["bn.running_mean"]?.scalars == [0.5, -0.5])
    #expect(imported.mode == .inference)
  }

  @Test("checkpoints round-trip, are byte-reproducible and reject foreign files")
  func checkpoints() throws {
    let dir = Fixtures.temporaryDirectory()
    let model = try Model(spec: Architecture.smallCNN.spec(input: [1, 28, 28], classes: 10), seed: 3)
    let a = dir.appendingPathComponent("a.safetensors"), b = dir.appendingPathComponent("b.safetensors")
    try Checkpoint.save(model, to: a, metadata: ["note": "x"])
    try Checkpoint.save(try Model(spec: model.spec, seed: 3), to: b, metadata: ["note": "x"])
    #expect(try Data(contentsOf: a) == Data(contentsOf: b))
    let (loaded, meta) = try Checkpoint.load(from: a)
    #expect(meta["note"] == "x")
    #expect(loaded.spec == model.spec)
    for (k, v) in model.stateTensors { #expect(loaded.stateTensors[k]?.scalars == v.scalars) }

    let foreign = dir.appendingPathComponent("plain.safetensors")
    try SafeTensors.write(["w": .zeros([1])], to: foreign)
    #expect(throws: CheckpointError.self) { try Checkpoint.load(from: foreign) }

    var wrongShape = model.stateTensors
    wrongShape["fc1.weight"] = .zeros([128, 10])
    let bad = dir.appendingPathComponent("bad.safetensors")
    try SafeTensors.write(wrongShape, metadata: [Checkpoint.modelKey: model.spec.jsonString()], to: bad)
    do {
      _ = try Checkpoint.load(from: bad)
      Issue.record("a wrong-shape checkpoint loaded")
    } catch let e as CheckpointError {
      #expect(e.description.contains(bad.path) && e.description.contains("fc1.weight"))
    }
  }

  struct BadSpec: Sendable, CustomTestStringConvertible {
    let json: String
    let message: String
    var testDescription: String { message }
  }

  static let badSpecs: [BadSpec] = [
    .init(json: #"{"format":"pixelrobust-model/1","input":[1,8,8],"classes":2,"layers":[{"type":"conv3d","out":2,"kernel":3}]}"#,
          message: "unknown layer type 'conv3d'"),
    .init(json: #"{"format":"pixelrobust-model/1","input":[1,8,8],"classes":2,"layers":[{"type":"linear","out":2}]}"#,
          message: "add {\"type\":\"flatten\"}"),
    .init(json: #"{"format":"pixelrobust-model/1","input":[1,8,8],"classes":2,"layers":[{"type":"conv2d","kernel":3}]}"#,
          message: "needs 'out'"),
    .init(json: #"{"format":"pixelrobust-model/1","input":[4],"classes":2,"layers":[{"type":"linear","name":"a","out":3},{"type":"linear","name":"a","out":2}]}"#,
          message: "repeated"),
    .init(json: #"{"format":"pixelrobust-model/1","input":[4],"classes":2,"layers":[{"type":"linear","out":3}]}"#,
          message: "expected [2] logits"),
    .init(json: #"{"format":"pixelrobust-model/2","input":[4],"classes":2,"layers":[]}"#, message: "expected 'pixelrobust-model/1'"),
    .init(json: #"{"format":"pixelrobust-model/1","classes":2,"layers":[]}"#, message: "missing key 'input'"),
    .init(json: #"{"format":"pixelrobust-model/1","input":[1,4,4],"classes":2,"layers":[{"type":"maxpool2d","kernel":5}]}"#,
          message: "does not fit"),
  ]

  @Test("invalid specs give a typed error naming the source and the problem", arguments: badSpecs)
  func invalidSpecs(_ bad: BadSpec) {
    do {
      let spec = try ModelSpec.decode(Data(bad.json.utf8), source: "spec.json")
      _ = try Model(spec: spec, seed: 0, source: "spec.json")
      Issue.record("accepted: \(bad.json)")
    } catch let e as ModelSpecError {
      #expect(e.description.hasPrefix("spec.json: "))
      #expect(e.description.contains(bad.message), "\(e)")
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  @Test("built-in architectures have PyTorch's parameter counts")
  func architectures() throws {
    #expect(try Model(spec: Architecture.smallCNN.spec(input: [1, 28, 28], classes: 10), seed: 0).parameterCount == 225_034)
    #expect(try Model(spec: Architecture.rossCNN.spec(input: [1, 28, 28], classes: 10), seed: 0).parameterCount == 3_274_634)
    #expect(try Model(spec: Architecture.mlp.spec(input: [1, 28, 28], classes: 10, hidden: [100]), seed: 0).parameterCount == 79_510)
    // ResNet-20 with 1×1 projection shortcuts (option B): 0.27 M.
    let resnet = try Model(spec: Architecture.resnet20.spec(input: [3, 32, 32], classes: 10), seed: 0)
    #expect(resnet.parameterCount == 272_474)
    #expect(resnet.namedParameters.map(\.name).contains("layer2_0.shortcut_conv.weight"))
    let wide = try Model(spec: Architecture.wideResNet.spec(input: [3, 32, 32], classes: 10, depth: 16, width: 4), seed: 0)
    #expect(wide.parameterCount > 2_700_000)
    var rng = SeededGenerator(seed: 0)
    let y = withoutGradients { resnet.withMode(.inference) { resnet(Tensor.uniform([2, 3, 32, 32], using: &rng)) } }
    #expect(y.shape == [2, 10])
  }
}
