import Testing
import PixelTensor
@testable import PixelNN

@Suite("Modules: dotted paths, modes, layers")
struct ModuleTests {
  final class Block: Layer {
    var mode: Mode = .training
    let conv: Conv2D
    let norm: BatchNorm
    let extra: Parameter?
    let _cache: Parameter
    init(using rng: inout SeededGenerator) {
      conv = Conv2D(inputChannels: 1, outputChannels: 2, kernelSize: 3, using: &rng)
      norm = BatchNorm(features: 2)
      extra = Parameter(.zeros([1]))
      _cache = Parameter(.zeros([1]))
    }
    func callAsFunction(_ x: Tensor) -> Tensor { norm(conv(x)) }
  }

  @Test("Mirror-based members give PyTorch-style dotted paths; _-prefixed labels are skipped")
  func reflectedNames() {
    var rng = SeededGenerator(seed: 0)
    let net = Sequential([(name: "block", layer: Block(using: &rng)), (name: "", layer: ReLU()),
                          (name: "", layer: Linear(inputFeatures: 2, outputFeatures: 3, using: &rng))])
    #expect(net.namedParameters.map(\.name) == ["block.conv.weight", "block.conv.bias", "block.norm.weight",
                                                 "block.norm.bias", "block.extra", "2.weight", "2.bias"])
    #expect(net.namedBuffers.map(\.name) == ["block.norm.running_mean", "block.norm.running_var"])
  }

  @Test("setMode reaches every layer and withMode restores it")
  func modes() {
    var rng = SeededGenerator(seed: 0)
    let block = Block(using: &rng)
    let net = Sequential([block])
    net.withMode(.inference) {
      #expect(block.norm.mode == .inference)
      #expect(block.conv.mode == .inference)
    }
    #expect(block.norm.mode == .training)
  }
}
