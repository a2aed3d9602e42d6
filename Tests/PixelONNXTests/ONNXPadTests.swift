import Foundation
import Testing
import _TestSupport
import PixelNN
import PixelTensor
@testable import PixelONNX

@Suite("ONNX Pad: zero padding of the spatial axes, before a network")
struct ONNXPadTests {
  /// `cnn_bn_folded` (input [N, 3, 8, 8]) behind `Pad(pads)` on a 3×7×6 input, with the pads as an
  /// initializer (opset ≥ 11), optional `mode` and constant value.
  static func padded(_ pads: [Int64], mode: String? = nil, value: Float? = nil) throws -> Onnx_ModelProto {
    var proto = try ONNXFixtures.proto("cnn_bn_folded")
    let original = proto.graph.input[0].name
    var input = proto.graph.input[0]
    input.name = "x_small"
    var dims = input.type.tensorType.shape.dim
    dims[2].dimValue = 7
    dims[3].dimValue = 6
    input.type.tensorType.shape.dim = dims
    proto.graph.input[0] = input
    var padsTensor = Onnx_TensorProto()
    padsTensor.name = "pads"; padsTensor.dataType = Int32(Onnx_TensorProto.DataType.int64.rawValue)
    padsTensor.dims = [Int64(pads.count)]; padsTensor.int64Data = pads
    proto.graph.initializer.append(padsTensor)
    var node = Onnx_NodeProto()
    node.opType = "Pad"; node.name = "pad"; node.input = ["x_small", "pads"]; node.output = [original]
    if let value {
      var c = Onnx_TensorProto()
      c.name = "pad_value"; c.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue); c.floatData = [value]
      proto.graph.initializer.append(c)
      node.input.append("pad_value")
    }
    if let mode {
      var m = Onnx_AttributeProto()
      m.name = "mode"; m.type = .string; m.s = Data(mode.utf8)
      node.attribute = [m]
    }
    proto.graph.node.insert(node, at: 0)
    return proto
  }

  @Test("Pad(top 1, right 2) in front equals the network on the zero-padded image, values and input gradients")
  func zeroPadding() throws {
    // ONNX pads: [N, C, H, W] begins, then ends.
    let model = try ONNXFixtures.importing(try Self.padded([0, 0, 1, 0, 0, 0, 0, 2]))
    #expect(model.spec.input == [3, 7, 6])
    let (reference, _) = try ONNXImporter.read(ONNXFixtures.url("cnn_bn_folded"))
    var g = SeededGenerator(seed: 4)
    let x = Tensor.uniform([2, 3, 7, 6], using: &g)
    let big = x.padded([Padding(0, 0), Padding(0, 0), Padding(1, 0), Padding(0, 2)])
    #expect(withoutGradients { model(x) }.scalars == withoutGradients { reference(big) }.scalars)
    let leaf = x.requiringGradient(), bigLeaf = big.requiringGradient()
    let labels = [1, 0]
    let gx = gradients(of: crossEntropy(logits: model(leaf), labels: labels), wrt: [leaf])[0]
    let gBig = gradients(of: crossEntropy(logits: reference(bigLeaf), labels: labels), wrt: [bigLeaf])[0]
    // The padded model's input gradient is the reference's gradient inside the original image.
    #expect(gx.scalars == gBig.slice(starts: [0, 0, 1, 0], shape: [2, 3, 7, 6]).scalars)
  }

  @Test("reflect mode, a non-zero value, channel pads, crops and huge pads are refused with the node named",
        arguments: [
          ([0, 0, 1, 1, 0, 0, 1, 1] as [Int64], "reflect" as String?, nil as Float?, "mode 'reflect'"),
          ([0, 0, 1, 0, 0, 0, 0, 2], nil, 0.5, "value 0.5"),
          ([0, 1, 1, 0, 0, 0, 0, 1], nil, nil, "channel axis"),
          ([0, 0, -1, 0, 0, 0, 2, 2], nil, nil, "crops"),
          ([0, 0, 1 << 40, 0, 0, 0, 0, 2], nil, nil, "exceed"),
          ([0, 0, 1, 0], nil, nil, "4 pads for 4 axes"),
        ])
  func refusals(_ pads: [Int64], _ mode: String?, _ value: Float?, _ fragment: String) throws {
    let proto = try Self.padded(pads, mode: mode, value: value)
    #expect { _ = try ONNXFixtures.importing(proto) } throws: { error in
      "\(error)".contains(fragment) && "\(error)".contains("pad")
    }
  }
}
