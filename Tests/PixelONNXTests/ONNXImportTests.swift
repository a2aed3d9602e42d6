import Foundation
import Testing
import PixelNN
import PixelTensor
import _TestSupport
@testable import PixelONNX

/// The committed fixtures come from `scripts/export_onnx_models.py fixtures`: PyTorch 2.15 exports
/// with random weights and PyTorch's logits and per-example input gradients beside each.
enum ONNXFixtures {
  static let folder = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

  static func url(_ name: String) -> URL { folder.appendingPathComponent(name + ".onnx") }

  static func array(_ name: String, _ kind: String) throws -> Tensor {
    try NumPy.read(from: folder.appendingPathComponent("\(name).\(kind).npy"))
  }

  static func proto(_ name: String) throws -> Onnx_ModelProto {
    try Onnx_ModelProto(serializedBytes: Data(contentsOf: url(name)))
  }

  /// Writes `proto` as `model.onnx` in a fresh folder and imports it.
  static func importing(_ proto: Onnx_ModelProto, in folder: URL = temporaryFolder("onnx")) throws -> Model {
    let url = folder.appendingPathComponent("model.onnx")
    try proto.serializedData().write(to: url)
    return try ONNXImporter.read(url).model
  }
}

@Suite("ONNX import")
struct ONNXImportTests {
  @Test("logits and per-example input gradients match PyTorch's", arguments: [
    "cnn_bn_folded", "cnn_bn_eval", "cnn_bn_train", "residual_static", "branches", "external/model",
  ])
  func parity(_ name: String) throws {
    let (model, _) = try ONNXImporter.read(ONNXFixtures.url(name))
    let x = try ONNXFixtures.array(name, "input"), labels = try ONNXFixtures.array(name, "labels").scalars.map { Int($0) }
    let reference = try ONNXFixtures.array(name, "logits"), referenceGradient = try ONNXFixtures.array(name, "grad")
    let leaf = x.requiringGradient()
    let (logits, gradient) = model.withMode(name.hasSuffix("_train") ? .training : .inference) {
      let out = model(leaf)
      return (out.detached(), gradients(of: crossEntropy(logits: out, labels: labels, reduction: .sum), wrt: [leaf])[0])
    }
    #expect(relativeError(logits, reference) <= 1e-5, "\(name): logits")
    for n in 0..<x.shape[0] {
      #expect(relativeError(gradient.rows(n..<n + 1), referenceGradient.rows(n..<n + 1)) <= 1e-4, "\(name): gradient of example \(n)")
    }
  }

  @Test("the report names what the file holds", arguments: [
    ("cnn_bn_folded", "dynamic", 0, 0, false),
    ("cnn_bn_train", "dynamic", 0, 2, false),
    ("residual_static", "static 4 in the file; generalised to any batch", 0, 0, true),
    ("branches", "dynamic", 0, 0, false),
  ])
  func report(name: String, batch: String, inference: Int, training: Int, normalised: Bool) throws {
    let (_, report) = try ONNXImporter.read(ONNXFixtures.url(name))
    #expect(report.batch == batch)
    #expect(report.batchNormInference == inference && report.batchNormTraining == training)
    #expect((report.normalizationMean != nil) == normalised)
    #expect(report.opset == 20 && report.producer.hasPrefix("pytorch"))
    if name == "residual_static" {
      #expect(report.normalizationMean == [0.49, 0.48, 0.45] && report.normalizationStd == [0.25, 0.24, 0.26])
    }
    if name == "branches" { #expect(report.notes.contains { $0.contains("removed the final Softmax") }) }
    #expect(report.markdown().contains("| operator | nodes |"))
  }

  @Test("a baked export batch is generalised: other batch sizes give the same per-example logits")
  func generalisedBatch() throws {
    let (model, _) = try ONNXImporter.read(ONNXFixtures.url("residual_static"))
    let x = try ONNXFixtures.array("residual_static", "input")
    let all = withoutGradients { model(x) }
    let one = withoutGradients { model(x.rows(1..<2)) }
    #expect(relativeError(one, all.rows(1..<2)) <= 1e-6)
  }

  @Test("an imported model checkpoints, reloads with the standard kinds and computes the same function")
  func checkpointRoundTrip() throws {
    let (model, _) = try ONNXImporter.read(ONNXFixtures.url("branches"))
    let url = temporaryFolder("onnx").appendingPathComponent("imported.safetensors")
    try Checkpoint.save(model, to: url)
    let (loaded, _) = try Checkpoint.load(from: url)
    let x = try ONNXFixtures.array("branches", "input")
    #expect(withoutGradients { loaded(x) }.scalars == withoutGradients { model(x) }.scalars)
    #expect(Checkpoint.contentHash(of: loaded) == Checkpoint.contentHash(of: model))
  }

  @Test("imported max pooling takes PyTorch's exact first maximum")
  func exactMaxPool() throws {
    let (model, _) = try ONNXImporter.read(ONNXFixtures.url("cnn_bn_folded"))
    let graph = try #require(model.network.layers[0].layer as? Graph)
    let pools = graph.layers.compactMap { $0.layer as? MaxPool2D }
    #expect(pools.count == 2 && pools.allSatisfy { $0.tieTolerance == MaxPoolTies.exact })
  }

  @Test("imported weights are trainable parameters and double backprop runs through the graph")
  func trainableAndTwiceDifferentiable() throws {
    let (model, _) = try ONNXImporter.read(ONNXFixtures.url("cnn_bn_train"))
    model.setMode(.training)
    let x = try ONNXFixtures.array("cnn_bn_train", "input")
    let labels = try ONNXFixtures.array("cnn_bn_train", "labels").scalars.map { Int($0) }
    let params = model.namedParameters.map(\.parameter.value)
    let g = gradients(of: crossEntropy(logits: model(x), labels: labels), wrt: params)
    #expect(g.allSatisfy { $0.scalars.contains { $0 != 0 } })
    // Double backprop (the input-gradient penalty of Ross & Doshi-Velez) reaches every weight
    // through the translated graph and its training-mode batch norm; the second-order rules
    // themselves are checked against finite differences in PixelNN's graph tests.
    let leaf = x.requiringGradient()
    let loss = crossEntropy(logits: model(leaf), labels: labels)
    let inputGradient = gradients(of: loss, wrt: [leaf], createGraph: true)[0]
    let penalty = gradients(of: (inputGradient * inputGradient).sum(), wrt: params)
    #expect(penalty.allSatisfy { g in g.scalars.allSatisfy(\.isFinite) && g.scalars.contains { $0 != 0 } })
  }

  @Test("an NHWC input whose only use is a Transpose to NCHW is absorbed: the import takes NCHW images")
  func nhwcInput() throws {
    var proto = try ONNXFixtures.proto("cnn_bn_folded")
    let original = proto.graph.input[0].name
    var input = proto.graph.input[0]
    input.name = "x_nhwc"
    var dims = input.type.tensorType.shape.dim
    dims = [dims[0], dims[2], dims[3], dims[1]]
    input.type.tensorType.shape.dim = dims
    proto.graph.input[0] = input
    var transpose = Onnx_NodeProto()
    transpose.opType = "Transpose"
    transpose.name = "to_nchw"
    transpose.input = ["x_nhwc"]
    transpose.output = [original]
    var perm = Onnx_AttributeProto()
    perm.name = "perm"; perm.type = .ints; perm.ints = [0, 3, 1, 2]
    transpose.attribute = [perm]
    proto.graph.node.insert(transpose, at: 0)
    let model = try ONNXFixtures.importing(proto)
    #expect(model.spec.input == [3, 8, 8])
    let (reference, _) = try ONNXImporter.read(ONNXFixtures.url("cnn_bn_folded"))
    let x = try ONNXFixtures.array("cnn_bn_folded", "input")
    #expect(withoutGradients { model(x) }.scalars == withoutGradients { reference(x) }.scalars)
    perm.ints = [0, 2, 3, 1]
    proto.graph.node[0].attribute = [perm]
    #expect(throws: ONNXError.self) { _ = try ONNXFixtures.importing(proto) }
  }

  @Test("--input-range puts x·(hi − lo) + lo in front")
  func inputRange() throws {
    let url = ONNXFixtures.url("cnn_bn_folded")
    let (plain, _) = try ONNXImporter.read(url)
    let (scaled, report) = try ONNXImporter.read(url, options: ONNXImportOptions(inputRange: -1...1))
    let x = try ONNXFixtures.array("cnn_bn_folded", "input")
    #expect(relativeError(withoutGradients { scaled(x) }, withoutGradients { plain(x * 2 - 1) }) <= 1e-6)
    #expect(report.notes.contains { $0.contains("[-1.0, 1.0]") })
  }
}
