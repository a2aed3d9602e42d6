import Foundation
import PixelNN
import PixelTensor
import SwiftProtobuf

/// How to read an ONNX classifier into the engine.
public struct ONNXImportOptions: Sendable, Equatable {
  /// The pixel range the exported model expects. Our images are in [0, 1]; for another range the
  /// import puts `x·(hi − lo) + lo` in front, so ε stays in our pixel units.
  public var inputRange: ClosedRange<Float>
  /// `[C, H, W]` of one example, needed only when the file leaves spatial extents symbolic.
  public var inputShape: [Int]?

  public init(inputRange: ClosedRange<Float> = 0...1, inputShape: [Int]? = nil) {
    self.inputRange = inputRange
    self.inputShape = inputShape
  }
}

/// Translates an ONNX model (opset ≤ 23, standard domain) into a ``Model`` whose one layer is a
/// ``Graph``: every initializer becomes a parameter or buffer of a layer, so imported models can
/// be fine-tuned, attacked, put behind a PRM or smoothed like any other, and their checkpoints
/// hold the graph in the model spec.
///
/// Supported operators: Conv, ConvTranspose, Gemm, MatMul (constant right side), Relu,
/// LeakyRelu, Sigmoid, Tanh, Clip, MaxPool, AveragePool, GlobalAveragePool, ReduceMean (spatial
/// axes), Flatten, Reshape, Add, Sub, Mul, Div, Concat, BatchNormalization (eval, or training
/// mode with three outputs), Dropout, Identity, Constant, a Transpose of an NHWC input and a
/// final Softmax (removed: attacks need logits). Anything else is refused with the node, its
/// operator and the nearest supported alternative.
public enum ONNXImporter {
  /// The name of the graph layer in the model spec, so parameter paths read `onnx.conv1.weight`.
  public static let graphName = "onnx"

  /// The largest model file read (protobuf's own limit; bigger models keep weights outside).
  public static let maximumFileBytes = Int(Int32.max)

  /// Reads `url` and returns the imported model (in inference mode) and a report.
  /// - Throws: ``ONNXError`` naming the file and the node or tensor for every problem.
  public static func read(_ url: URL, options: ONNXImportOptions = .init()) throws -> (model: Model, report: ONNXImportReport) {
    let data: Data
    do { data = try FileBytes.read(url) } catch let e as FileReadError {
      throw ONNXError.unreadable(file: url.path, reason: e.reason)
    }
    guard data.count <= maximumFileBytes else {
      throw ONNXError.unreadable(file: url.path, reason: "\(data.count) bytes is over protobuf's 2 GiB limit")
    }
    let proto: Onnx_ModelProto
    do {
      var decoding = BinaryDecodingOptions()
      decoding.messageDepthLimit = 64
      proto = try Onnx_ModelProto(serializedBytes: data, options: decoding)
    } catch {
      throw ONNXError.unreadable(file: url.path, reason: "the protobuf does not decode (\(error)); is the file truncated?")
    }
    return try translate(proto, file: url, options: options)
  }

  /// Translates a decoded model; `file` names it in errors and anchors external data.
  static func translate(_ proto: Onnx_ModelProto, file: URL, options: ONNXImportOptions) throws
    -> (model: Model, report: ONNXImportReport) {
    guard proto.hasGraph else { throw ONNXError.unreadable(file: file.path, reason: "the model has no graph") }
    let opset = proto.opsetImport.first { $0.domain.isEmpty || $0.domain == "ai.onnx" }.map { Int($0.version) } ?? 0
    guard (1...23).contains(opset) else {
      throw ONNXError.unreadable(file: file.path, reason: "standard-domain opset \(opset) is outside 1...23")
    }
    var translation = try GraphTranslation(graph: proto.graph, file: file, opset: opset, options: options)
    try translation.run()
    return try translation.finish(producer: [proto.producerName, proto.producerVersion].filter { !$0.isEmpty }.joined(separator: " "))
  }
}
