import Testing
import _TestSupport
import PixelTensor
@testable import PixelNN

/// A layer of a kind PixelNN does not know: not samplewise unless it says so.
private final class Opaque: Layer {
  var mode: Mode = .training
  func callAsFunction(_ x: Tensor) -> Tensor { x }
}

@Suite("Model's blocks of examples")
struct RowBlockTests {
  /// ResNet-20 on 8×8 inputs (every stage, stride and projection shortcut, but small), with
  /// non-trivial running statistics, in inference mode.
  private func resnet() throws -> Model {
    let model = try Model(spec: Architecture.resnet20.spec(input: [3, 8, 8], classes: 10), seed: 4)
    var rng = SeededGenerator(seed: 5)
    for (name, buffer) in model.namedBuffers {
      let n = buffer.value.elementCount
      buffer.value = name.hasSuffix("running_var") ? Tensor.uniform([n], in: 0.5...2, using: &rng)
                                                   : Tensor.uniform([n], in: -0.5...0.5, using: &rng)
    }
    model.setMode(.inference)
    return model
  }

  private func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

  @Test("which layers are samplewise: batch norm and dropout only in inference, containers when all children are")
  func samplewiseTable() throws {
    let model = try resnet()
    #expect(model.isSamplewise)
    let cases: [(String, any Layer, Mode, Bool)] = [
      ("relu", ReLU(), .training, true),
      ("batch norm, training", BatchNorm(features: 2), .training, false),
      ("batch norm, inference", BatchNorm(features: 2), .inference, true),
      ("dropout, training", Dropout(probability: 0.5), .training, false),
      ("dropout, inference", Dropout(probability: 0.5), .inference, true),
      ("unknown layer", Opaque(), .inference, false),
      ("sequential with an unknown layer", Sequential([ReLU(), Opaque()] as [any Layer]), .inference, false),
      ("residual of samplewise layers", Residual(body: Sequential([ReLU()] as [any Layer]), shortcut: Sequential([] as [any Layer])), .inference, true),
    ]
    for (name, layer, mode, expected) in cases {
      layer.setMode(mode)
      #expect(layer.isSamplewise == expected, "\(name)")
    }
    model.setMode(.training)
    #expect(!model.isSamplewise)
  }

  @Test("unrecorded inference in blocks gives the whole batch's bits", arguments: [1, 5, 11, 37])
  func inferenceBits(batch: Int) throws {
    let model = try resnet()
    var rng = SeededGenerator(seed: UInt64(batch))
    let x = Tensor.uniform([batch, 3, 8, 8], using: &rng)
    let blocked = withoutGradients { model(x) }
    let whole = withoutGradients { model.network(x) }
    #expect(bits(blocked) == bits(whole))
    #expect(!blocked.requiresGradient)
  }

  @Test("input gradients in blocks give the whole batch's bits (ResNet and small CNN with max-pool)")
  func inputGradientBits() throws {
    let small = try Model(spec: Architecture.smallCNN.spec(input: [1, 28, 28], classes: 10), seed: 6)
    small.setMode(.inference)
    for (model, shape) in [(try resnet(), [13, 3, 8, 8]), (small, [9, 1, 28, 28])] {
      var rng = SeededGenerator(seed: 7)
      let x = Tensor.uniform(Shape(shape), using: &rng)
      let labels = (0..<shape[0]).map { ($0 * 7) % 10 }
      let blocked = model.inputGradient(x) { logits, rows in
        crossEntropy(logits: logits, labels: Array(labels[rows]), reduction: .sum)
      }
      let probe = x.requiringGradient()
      let whole = gradients(of: crossEntropy(logits: model.network(probe), labels: labels, reduction: .sum), wrt: [probe])[0]
      #expect(blocked.shape == x.shape)
      #expect(bits(blocked) == bits(whole))
      #expect(!blocked.requiresGradient)
    }
  }

  @Test("a model that is not samplewise runs the whole batch: training-mode batch norm keeps batch statistics")
  func trainingModeIsWhole() throws {
    let model = try resnet()
    model.setMode(.training)
    var rng = SeededGenerator(seed: 8)
    let x = Tensor.uniform([12, 3, 8, 8], using: &rng)
    let before = model.namedBuffers.map { bits($0.buffer.value) }
    let a = withoutGradients { model(x) }
    for (b, (_, buffer)) in zip(before, model.namedBuffers) { buffer.value = Tensor(b.map(Float.init(bitPattern:)), shape: buffer.value.shape) }
    let b = withoutGradients { model.network(x) }
    #expect(bits(a) == bits(b))
  }
}
