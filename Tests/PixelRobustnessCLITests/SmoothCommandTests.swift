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
    // curves reads certification summaries too: one certified-accuracy curve per σ.
    let plots = data.appendingPathComponent("curves")
    let c = try CrashSafetyTests.run(["curves", "--reports", out.appendingPathComponent("summary.json").path, "--output", plots.path])
    try #require(c.status == 0, "\(c.stderr)")
    let rows = try String(contentsOf: plots.appendingPathComponent("curves.csv"), encoding: .utf8).split(separator: "\n")
    #expect(rows.dropFirst().allSatisfy { $0.hasPrefix("certify: certified, sigma 0.12,l2,") || $0.hasPrefix("certify: certified, sigma 0.25,l2,") })
    #expect(FileManager.default.fileExists(atPath: plots.appendingPathComponent("curves_l2.png").path))
  }

  @Test("the smoothing options parse and are range-checked")
  func parsing() throws {
    let p = try #require(try PixelRobustCommand.parseAsRoot(["smooth", "predict", "--model", "m", "--mode", "weighted", "--samples", "32",
                                                             "--sigma", "0.5", "--output", "d"]) as? PixelRobustCommand.SmoothPredictCommand)
    #expect(p.settings(0.5).mode == .weighted && p.settings(0.5).samples == 32)
    let vote = try #require(try PixelRobustCommand.parseAsRoot(["smooth", "predict", "--model", "m", "--alpha", "1", "--output", "d"])
                            as? PixelRobustCommand.SmoothPredictCommand)
    #expect(vote.settings(0.25).alpha == 1)
    let fineTune = try #require(try PixelRobustCommand.parseAsRoot(["train", "--init", "base.safetensors", "--objective", "gaussian-augmentation",
                                                                    "--noise-sigma", "0.25", "--output", "m"]) as? PixelRobustCommand.TrainCommand)
    #expect(fineTune.initial == "base.safetensors")
    for (arguments, message) in [
      (["train", "--init", "a", "--spec", "s.json", "--output", "m"], "--init"),
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
