import Foundation
import PixelData
import PixelNN
import PixelTensor
import PixelTraining
import Testing
import _TestSupport

/// A tiny CNN trained in the test on two separable classes (left-bright vs right-bright).
enum TinyModels {
  static func halves(_ n: Int, seed: UInt64, size: Int = 8) -> Dataset { SyntheticData.halves(n, seed: seed, size: size) }

  static func trained() -> Model {
    let spec = ModelSpec(input: [1, 8, 8], classes: 2, layers: [
      LayerSpec(type: "conv2d", name: "conv", out: 4, kernel: 3), LayerSpec(type: "relu"),
      LayerSpec(type: "maxpool2d", kernel: 2), LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    let settings = TrainingSettings(data: "halves", epochs: 5, batchSize: 16, learningRate: 0.02, seed: 1)
    let out = temporaryPath("tiny").appendingPathComponent("m.safetensors")
    let (model, _) = try! TrainingJob(spec: spec, settings: settings, output: out).run(train: halves(256, seed: 1), test: nil, resume: false)
    model.setMode(.inference)
    return model
  }
}

/// The tiny relu CNN of the PyTorch attack fixtures: conv 3×3 pad 1 (1→4) → relu → max-pool 2 →
/// conv 3×3 (4→8) → relu → max-pool 2 → linear 32→10, weights `relu_f32.<param>`.
enum TinyFixtureCNN {
  /// The model with the fixture file's weights, in inference mode, and every tensor of the file.
  static func load(_ name: String) throws -> (Model, SafeTensorsArchive) {
    let url = Bundle.module.url(forResource: name, withExtension: "safetensors", subdirectory: "Fixtures")!
    let f = try SafeTensors.read(from: url)
    let spec = ModelSpec(input: [1, 12, 12], classes: 10, layers: [
      LayerSpec(type: "conv2d", name: "conv1", out: 4, kernel: 3, padding: 1), LayerSpec(type: "relu"),
      LayerSpec(type: "maxpool2d", kernel: 2), LayerSpec(type: "conv2d", name: "conv2", out: 8, kernel: 3),
      LayerSpec(type: "relu"), LayerSpec(type: "maxpool2d", kernel: 2), LayerSpec(type: "flatten"),
      LayerSpec(type: "linear", name: "fc", out: 10)])
    let model = try Model(spec: spec, seed: 0)
    var weights: [String: Tensor] = [:]
    for (k, v) in f.tensors where k.hasPrefix("relu_f32.") { weights[String(k.dropFirst(9))] = v }
    try model.loadState(weights, source: url.path)
    model.setMode(.inference)
    return (model, f)
  }
}

/// Every attack's output contract: the input's shape, pixels in [0, 1], and pixels off `mask`
/// (`[1, 1, H, W]`) bit-identical to the clean batch.
func expectAttackContract(_ xAdv: Tensor, clean x: Tensor, mask: Tensor?, sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(xAdv.shape == x.shape, sourceLocation: sourceLocation)
  #expect(xAdv.min() >= 0 && xAdv.max() <= 1, sourceLocation: sourceLocation)
  guard let mask else { return }
  let plane = mask.elementCount
  for (i, (a, b)) in zip(xAdv.scalars, x.scalars).enumerated() where mask.scalars[i % plane] == 0 {
    #expect(a.bitPattern == b.bitPattern, "off-mask pixel \(i) changed", sourceLocation: sourceLocation)
  }
}
