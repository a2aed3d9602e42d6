import Foundation
import PixelData
import PixelNN
import PixelTensor
import PixelTraining
import _TestSupport

/// A tiny CNN trained in the test on two separable classes (left-bright vs right-bright).
enum TinyModels {
  static func halves(_ n: Int, seed: UInt64, size: Int = 8) -> Dataset { SyntheticData.halves(n, seed: seed, size: size) }

  static func trained() -> Model {
    let spec = ModelSpec(input: [1, 8, 8], classes: 2, layers: [
      LayerSpec(type: "conv2d", name: "conv", out: 4, kernel: 3), LayerSpec(type: "relu"),
      LayerSpec(type: "maxpool2d", kernel: 2), LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    let settings = TrainingSettings(data: "halves", epochs: 5, batchSize: 16, learningRate: 0.02, seed: 1)
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("tiny-\(UUID().uuidString)/m.safetensors")
    let (model, _) = try! TrainingJob(spec: spec, settings: settings, output: out).run(train: halves(256, seed: 1), test: nil, resume: false)
    model.setMode(.inference)
    return model
  }
}
