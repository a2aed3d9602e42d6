import Foundation
import PixelNN
import PixelONNX
import PixelTensor

extension EngineBenchmarks {
  /// ``importedModel(onnx:batch:progress:)`` for each file, as one report.
  public func runImported(onnx files: [URL], batch: Int, progress: (String) -> Void = { _ in }) throws -> BenchmarkReport {
    report(try files.flatMap { try importedModel(onnx: $0, batch: batch, progress: progress) })
  }

  /// An ONNX model as users bring it: the import (decode, translate, load the weights) and then
  /// inference and one input gradient of the imported graph at `batch` on uniform images — the
  /// figures `scripts/torch_reference_bench.py --torchvision NAME` measures for PyTorch.
  public func importedModel(onnx url: URL, batch: Int, progress: (String) -> Void = { _ in }) throws -> [BenchmarkResult] {
    let name = url.deletingPathExtension().lastPathComponent
    progress("\(name): import")
    var imported: Model?
    var importError: Error?
    let importTimes = Stopwatch.samples(repeats: Swift.max(1, Swift.min(repeats, 3))) {
      do { imported = try ONNXImporter.read(url).model } catch { importError = error }
    }
    if let importError { throw importError }
    let model = imported!
    var rng = SeededGenerator(seed: 7)
    let x = Tensor.uniform(Shape([batch] + model.spec.input), using: &rng)
    let labels = (0..<batch).map { $0 % model.spec.classes }
    progress("\(name): inference")
    ProcessMemory.resetPeak()
    let infer = Stopwatch.samples(repeats: repeats) { withoutGradients { _ = model(x) } }
    let inferPeak = ProcessMemory.peakResidentMiB
    progress("\(name): input gradient")
    ProcessMemory.resetPeak()
    let gradient = Stopwatch.samples(repeats: repeats) {
      _ = model.inputGradient(x) { logits, rows in crossEntropy(logits: logits, labels: Array(labels[rows]), reduction: .sum) }
    }
    let gradientPeak = ProcessMemory.peakResidentMiB
    let shape = model.spec.input.map(String.init).joined(separator: "×")
    var results = [
      result("\(name).import", "ONNX import of \(url.lastPathComponent) (\(model.parameterCount) weights): decode, translate, load", importTimes),
      result("\(name).evaluate", "inference forward of the imported \(name) on \(shape) at batch \(batch)", infer, items: Double(batch)),
      result("\(name).input-gradient", "∂CE/∂x of the imported \(name) at batch \(batch)", gradient, items: Double(batch)),
    ]
    results[1].peakMemoryMiB = inferPeak
    results[2].peakMemoryMiB = gradientPeak
    return results
  }
}
