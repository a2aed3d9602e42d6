import Foundation
import Testing
import PixelTensor
@testable import PixelRobustnessCLI
import _TestSupport

@Suite("pixelrobust import --onnx and forward end to end", .serialized)
struct ImportCommandTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("PixelONNXTests/Fixtures")

  @Test("an ONNX file imports with a report, and forward reproduces PyTorch's logits and gradients")
  func importAndForward() throws {
    let out = temporaryPath("pixelrobust-import")
    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
    let model = out.appendingPathComponent("m.safetensors"), report = out.appendingPathComponent("report.json")
    let onnx = Self.fixtures.appendingPathComponent("residual_static.onnx").path
    let r = try CrashSafetyTests.run(["import", "--onnx", onnx, "--output", model.path, "--json", report.path])
    try #require(r.status == 0, "\(r.stderr)")
    let json = try String(contentsOf: report, encoding: .utf8)
    #expect(json.contains("generalised to any batch") && json.contains("\"Conv\" : 4"))
    let logits = out.appendingPathComponent("logits.npy"), grads = out.appendingPathComponent("grads.npy")
    let base = Self.fixtures.appendingPathComponent("residual_static").path
    let f = try CrashSafetyTests.run(["forward", "--model", model.path, "--images", base + ".input.npy", "--labels", base + ".labels.npy",
                                      "--logits", logits.path, "--input-gradients", grads.path])
    try #require(f.status == 0, "\(f.stderr)")
    let ours = try NumPy.read(from: logits), reference = try NumPy.read(from: URL(fileURLWithPath: base + ".logits.npy"))
    #expect(zip(ours.scalars, reference.scalars).allSatisfy { Swift.abs($0 - $1) <= 1e-5 })
    let g = try NumPy.read(from: grads), gr = try NumPy.read(from: URL(fileURLWithPath: base + ".grad.npy"))
    #expect(g.shape == gr.shape)
    let refused = try CrashSafetyTests.run(["import", "--onnx", base + ".input.npy", "--output", out.appendingPathComponent("x.safetensors").path])
    #expect(refused.status != 0 && refused.stderr.contains("not a readable ONNX model"), "\(refused.stderr)")
  }

  @Test("options are range-checked and the two import forms exclude each other")
  func validation() {
    for (arguments, message) in [
      (["import", "--output", "m.safetensors"], "either --onnx"),
      (["import", "--onnx", "a.onnx", "--spec", "s.json", "--output", "m.safetensors"], "either --onnx"),
      (["import", "--spec", "s.json", "--output", "m.safetensors"], "go together"),
      (["import", "--onnx", "a.onnx", "--input-range", "1,0", "--output", "m.safetensors"], "LO < HI"),
      (["import", "--onnx", "a.onnx", "--input-shape", "3,0,4", "--output", "m.safetensors"], "--input-shape"),
      (["import", "--spec", "s.json", "--weights", "w", "--input-range", "0,255", "--output", "m.safetensors"], "--onnx only"),
      (["evaluate", "--model", "m", "--resize", "256"], "folder: data only"),
      (["evaluate", "--model", "m", "--data", "folder:/x", "--resize", "0"], "--resize must be in"),
      (["evaluate", "--model", "m", "--data", "folder:/x", "--resize", "200", "--center-crop", "224"], "larger than --resize"),
    ] {
      expectRejected(arguments, mentioning: message)
    }
  }
}
