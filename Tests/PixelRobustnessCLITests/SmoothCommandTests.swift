import Foundation
import Testing
import PixelDefenses
@testable import PixelRobustnessCLI

@Suite("pixelrobust smooth predicts and certifies end to end", .serialized)
struct SmoothCommandTests {
  @Test("certify writes per-example CSVs, a summary and the certified-accuracy plot; a mask covers part of the image")
  func certifyRuns() throws {
    let (data, model) = try CrashSafetyTests.trainedModel()
    let out = data.appendingPathComponent("certify")
    let r = try CrashSafetyTests.run(["smooth", "certify", "--model", model.path, "--data", "idx:\(data.path)", "--limit", "6",
                                      "--sigma", "0.12,0.25", "--samples", "200", "--selection-samples", "20",
                                      "--mask", "pattern:v0", "--output", out.path])
    try #require(r.status == 0, "\(r.stderr)")
    for file in ["certify_sigma0.12_pattern-v0.csv", "certify_sigma0.25_pattern-v0.csv", "summary.json", "summary.md", "certified.png",
                 "manifest.json"] {
      #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
    }
    let runs = try JSONDecoder().decode([CertificationRun].self, from: Data(contentsOf: out.appendingPathComponent("summary.json")))
    #expect(runs.map(\.settings.sigma) == [0.12, 0.25] && runs.allSatisfy { $0.count == 6 && $0.maskFraction == 0.25 })
    let csv = try String(contentsOf: out.appendingPathComponent("certify_sigma0.12_pattern-v0.csv"), encoding: .utf8)
    #expect(csv.split(separator: "\n").count == 7)
  }

  @Test("the smoothing options parse and are range-checked")
  func parsing() throws {
    let p = try #require(try PixelRobustCommand.parseAsRoot(["smooth", "predict", "--model", "m", "--mode", "weighted", "--samples", "32",
                                                             "--sigma", "0.5", "--output", "d"]) as? PixelRobustCommand.SmoothPredictCommand)
    #expect(p.settings(0.5).mode == .weighted && p.settings(0.5).samples == 32)
    for (arguments, message) in [
      (["smooth", "certify", "--model", "m", "--sigma", "0", "--output", "d"], "σ"),
      (["smooth", "certify", "--model", "m", "--sigma", "nan", "--output", "d"], "σ"),
      (["smooth", "certify", "--model", "m", "--alpha", "1", "--output", "d"], "α"),
      (["smooth", "certify", "--model", "m", "--samples", "0", "--output", "d"], "samples"),
      (["smooth", "predict", "--model", "m", "--mode", "median", "--output", "d"], "median"),
      (["smooth", "certify", "--model", "m", "--mask", "top:25", "--output", "d"], "--map"),
    ] {
      expectRejected(arguments, mentioning: message)
    }
  }
}
