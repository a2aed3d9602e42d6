import Foundation
import Testing
import PixelAttacks
@testable import PixelRobustnessCLI

@Suite("pixelrobust attack runs the attack suite end to end", .serialized)
struct AttackCommandTests {
  @Test("a minimal attack writes its report, curve and per-example sizes; an ensemble reports members and worst case")
  func minimalAndEnsemble() throws {
    let (data, model) = try CrashSafetyTests.trainedModel()
    let out = data.appendingPathComponent("deepfool")
    let json = data.appendingPathComponent("deepfool.json")
    let r = try CrashSafetyTests.run(["attack", "--model", model.path, "--data", "idx:\(data.path)", "--limit", "16",
                                      "--attack", "deepfool", "--norm", "l2", "--output", out.path, "--json", json.path])
    try #require(r.status == 0, "\(r.stderr)")
    for file in ["report.json", "report.md", "curve.csv", "norms.csv", "curve.png", "manifest.json"] {
      #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
    }
    let report = try JSONDecoder().decode(MinimalAttackReport.self, from: Data(contentsOf: json))
    #expect(report.results.count == 1 && report.results[0].attack == "deepfool-l2" && report.results[0].norms.count == 16)
    #expect(report.results[0].curve.first?.accuracy == report.results[0].cleanAccuracy)

    let ensembleJSON = data.appendingPathComponent("ensemble.json")
    let e = try CrashSafetyTests.run(["attack", "--model", model.path, "--data", "idx:\(data.path)", "--limit", "16",
                                      "--ensemble", "fgsm,square", "--queries", "20", "--epsilon", "0.1", "--json", ensembleJSON.path])
    try #require(e.status == 0, "\(e.stderr)")
    let ensemble = try JSONDecoder().decode(AttackReportRows.self, from: Data(contentsOf: ensembleJSON))
    #expect(ensemble.results.map(\.attack) == ["fgsm", "square-20", "ensemble(fgsm+square-20)"])
  }

  @Test("the suite's options parse into settings; minimal attacks are refused where an ε-ball is needed")
  func parsing() throws {
    let a = try #require(try PixelRobustCommand.parseAsRoot(["attack", "--model", "m", "--attack", "cw", "--norm", "l2",
                                                             "--search-steps", "5", "--steps", "200", "--confidence", "1"])
                         as? PixelRobustCommand.AttackCommand)
    let cw = try #require(try a.options.settings.minimalAttack() as? CarliniWagner)
    #expect(cw.searchSteps == 5 && cw.steps == 200 && cw.confidence == 1)
    let apgd = try #require(try PixelRobustCommand.parseAsRoot(["attack", "--model", "m", "--attack", "apgd-dlr"])
                            as? PixelRobustCommand.AttackCommand)
    #expect(try apgd.options.settings.attacks().map(\.name) == ["apgd-dlr-100"])
    for (arguments, message) in [
      (["attack", "--model", "m", "--attack", "cw"], "L2"),
      (["attack", "--model", "m", "--attack", "onepixel", "--norm", "l2"], "linf"),
      (["attack", "--model", "m", "--ensemble", "apgd-ce,jsma"], "minimal"),
      (["attack", "--model", "m", "--ensemble", "apgd-ce"], "two attacks"),
      (["attack", "--model", "m", "--attack", "jsma", "--gamma", "1.5"], "γ"),
      (["attack", "--model", "m", "--attack", "square", "--queries", "1"], "queries"),
      (["attack", "--model", "m", "--attack", "deepfool", "--repeats", "2"], "minimal"),
      (["masked-sweep", "--model", "m", "--map", "G.npy", "--attack", "deepfool", "--output", "d"], "minimal"),
    ] {
      expectRejected(arguments, mentioning: message)
    }
  }
}

/// The part of an ``AttackReport`` JSON this suite reads.
private struct AttackReportRows: Decodable {
  struct Row: Decodable { var attack: String }
  var results: [Row]
}
