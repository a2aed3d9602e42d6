import Foundation
import Testing
import _TestSupport
import PixelTensor
@testable import PixelNN

@Suite("pad2d: zero rows and columns around each image")
struct Pad2DTests {
  /// conv → pad2d (asymmetric) → softplus → conv → flatten → linear, on 1×5×4 inputs.
  static func model() throws -> Model {
    var pad = LayerSpec(type: "pad2d")
    try pad.setOption("pads", [1, 0, 2, 1])
    return try Model(spec: ModelSpec(input: [1, 5, 4], classes: 3, layers: [
      LayerSpec(type: "conv2d", name: "conv1", out: 2, kernel: 3, padding: 1), pad, LayerSpec(type: "softplus"),
      LayerSpec(type: "conv2d", name: "conv2", out: 2, kernel: 3), LayerSpec(type: "flatten"),
      LayerSpec(type: "linear", name: "fc", out: 3)]), seed: 3)
  }

  @Test("the values: the image sits at row top, column left, zeros around it; the spec gives the padded shape")
  func values() throws {
    let layer = Pad2D(top: 1, bottom: 2, left: 0, right: 1)
    let x = Tensor([1, 2, 3, 4], shape: [1, 1, 2, 2])
    let y = layer(x)
    #expect(y.shape == [1, 1, 5, 3])
    #expect(y.scalars == [0, 0, 0, 1, 2, 0, 3, 4, 0, 0, 0, 0, 0, 0, 0])
    var pad = LayerSpec(type: "pad2d")
    try pad.setOption("pads", [1, 2, 0, 1])
    let spec = ModelSpec(input: [1, 2, 2], classes: 2, layers: [pad, LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    #expect(try Model(spec: spec, seed: 0).namedParameters.first { $0.name == "fc.weight" }?.parameter.value.shape == [2, 15])
  }

  @Test("bad pads are refused naming the layer", arguments: [[1, 2, 3], [1, -1, 0, 0], [0, 0, 0, 1 << 25]])
  func refusals(_ pads: [Int]) throws {
    var pad = LayerSpec(type: "pad2d")
    try pad.setOption("pads", pads)
    let spec = ModelSpec(input: [1, 2, 2], classes: 2, layers: [pad, LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    #expect { _ = try Model(spec: spec, seed: 0) } throws: { "\($0)".contains("pad2d") }
  }

  @Test("first and second derivatives (x→θ mixed and Hessian-vector) through pad2d match finite differences")
  func derivatives() throws {
    let model = try Self.model()
    model.setMode(.inference)
    var rng = SeededGenerator(seed: 5)
    let x = Tensor.uniform([2, 1, 5, 4], in: 0...1, using: &rng)
    let w = model.namedParameters.first { $0.name == "conv1.weight" }!.parameter
    let f: ([Tensor]) -> Tensor = { inputs in
      let saved = w.value
      defer { w.value = saved }
      w.value = inputs[1]
      return model(inputs[0])
    }
    let first = checkDirectionalDerivative(f, at: [x, w.value.detached()], using: &rng)
    #expect(first.relativeError < 2e-3, "\(first)")
    let mixed = checkSecondOrder(f, at: [x, w.value.detached()], first: [0], second: [1], using: &rng)
    #expect(mixed.relativeError < 5e-3, "\(mixed)")
    let hessian = checkSecondOrder(f, at: [x, w.value.detached()], first: [0], second: [0], using: &rng)
    #expect(hessian.relativeError < 5e-3, "\(hessian)")
  }
}
