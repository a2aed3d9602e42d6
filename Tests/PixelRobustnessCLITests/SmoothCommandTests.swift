import Foundation
import Testing
import PixelDefenses
import PixelTraining
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

  @Test("certify --fractions sweeps the whole image and top, bottom and random masks; --resume of a finished job recomputes nothing")
  func maskedSweep() throws {
    let (data, model) = try CrashSafetyTests.trainedModel()
    let maps = data.appendingPathComponent("maps")
    let g = try CrashSafetyTests.run(["gradient-map", "--model", model.path, "--data", "idx:\(data.path)", "--limit", "8", "--output", maps.path])
    try #require(g.status == 0, "\(g.stderr)")
    let out = data.appendingPathComponent("sweep")
    let arguments = ["smooth", "certify", "--model", model.path, "--data", "idx:\(data.path)", "--limit", "4", "--samples", "100",
                     "--selection-samples", "10", "--fractions", "25", "--map", maps.appendingPathComponent("G.npy").path,
                     "--radii", "0.1,0.3", "--output", out.path]
    let r = try CrashSafetyTests.run(arguments)
    try #require(r.status == 0, "\(r.stderr)")
    let runs = try JSONDecoder().decode([CertificationRun].self, from: Data(contentsOf: out.appendingPathComponent("summary.json")))
    #expect(runs.map(\.label) == ["whole", "top:25.0", "bottom:25.0", "random:25.0@0"])
    #expect(runs.map(\.maskFraction) == [1, 0.25, 0.25, 0.25])
    #expect(try String(contentsOf: out.appendingPathComponent("summary.md"), encoding: .utf8).contains("certified at 0.1 | 0.3 |"))
    let csv = out.appendingPathComponent("certify_sigma0.25_bottom-25-0.csv")
    let before = try Data(contentsOf: csv)
    let again = try CrashSafetyTests.run(arguments + ["--resume"])
    try #require(again.status == 0, "\(again.stderr)")
    #expect(again.stderr.contains("resuming: 4 of 4 runs finished") && !again.stderr.contains("noise on"))
    #expect(try Data(contentsOf: csv) == before)
    let other = try CrashSafetyTests.run(arguments.map { $0 == "100" ? "120" : $0 } + ["--resume"])
    #expect(other.status != 0 && other.stderr.contains("belongs to another job"), "\(other.stderr)")
  }

  @Test("smooth attack reports base and smoothed accuracy on clean, transfer and EPGD images")
  func attack() throws {
    let (data, model) = try CrashSafetyTests.trainedModel()
    let out = data.appendingPathComponent("smooth-attack")
    let r = try CrashSafetyTests.run(["smooth", "attack", "--model", model.path, "--data", "idx:\(data.path)", "--limit", "6",
                                      "--samples", "8", "--attack-samples", "2", "--steps", "3", "--modes", "vote,soft",
                                      "--attack-loss", "expectation", "--output", out.path])
    try #require(r.status == 0, "\(r.stderr)")
    let report = try JSONDecoder().decode(SmoothedAttackEvaluation.self, from: Data(contentsOf: out.appendingPathComponent("report.json")))
    #expect(report.count == 6 && report.rows.count == 9 && report.settings.attackLoss == .expectation && report.maxPerturbation <= 0.1 + 1e-6)
    #expect(try String(contentsOf: out.appendingPathComponent("report.md"), encoding: .utf8).contains("| smoothed, soft |"))
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
    let pni = try #require(try PixelRobustCommand.parseAsRoot(["train", "--objective", "pni", "--pni-target", "activation", "--epsilon", "0.1",
                                                               "--output", "m"]) as? PixelRobustCommand.TrainCommand)
    #expect(pni.settings.objective == ObjectiveSettings(kind: .pni, epsilon: 0.1, pniTarget: "activation", pniAlpha: 0.25))
    for (arguments, message) in [
      (["train", "--init", "a", "--spec", "s.json", "--output", "m"], "--init"),
      (["train", "--objective", "pni", "--adversarial-weight", "0.5", "--output", "m"], "needs ε"),
      (["train", "--objective", "pni", "--pni-alpha", "-1", "--output", "m"], "α"),
      (["smooth", "certify", "--model", "m", "--sigma", "0", "--output", "d"], "σ"),
      (["smooth", "certify", "--model", "m", "--sigma", "nan", "--output", "d"], "σ"),
      (["smooth", "certify", "--model", "m", "--alpha", "1", "--output", "d"], "α"),
      (["smooth", "certify", "--model", "m", "--samples", "0", "--output", "d"], "samples"),
      (["smooth", "predict", "--model", "m", "--mode", "median", "--output", "d"], "median"),
      (["smooth", "certify", "--model", "m", "--mask", "top:25", "--output", "d"], "--map"),
      (["smooth", "certify", "--model", "m", "--fractions", "25", "--output", "d"], "--map"),
      (["smooth", "certify", "--model", "m", "--fractions", "25", "--kinds", "random", "--mask", "top:5", "--output", "d"], "--mask"),
      (["smooth", "certify", "--model", "m", "--fractions", "0", "--kinds", "random", "--output", "d"], "--fractions"),
      (["smooth", "certify", "--model", "m", "--radii", "-1", "--output", "d"], "--radii"),
      (["smooth", "attack", "--model", "m", "--epsilon", "2", "--output", "d"], "ε"),
      (["smooth", "attack", "--model", "m", "--epsilon", "0", "--output", "d"], "--step-size"),
      (["smooth", "attack", "--model", "m", "--evaluations", "0", "--output", "d"], "evaluations"),
      (["smooth", "attack", "--model", "m", "--attack-loss", "median", "--output", "d"], "median"),
    ] {
      expectRejected(arguments, mentioning: message)
    }
  }
}
