import Foundation
import Testing
import PixelDefenses
@testable import PixelRobustnessCLI

@Suite("pixelrobust defense-table end to end", .serialized)
struct DefenseTableCommandTests {
  @Test("defense-table writes the table for every defense, attack and protocol")
  func runs() throws {
    let (data, model) = try CrashSafetyTests.trainedModel()
    let out = data.appendingPathComponent("defense-table")
    let r = try CrashSafetyTests.run(["defense-table", "--model", model.path, "--data", "idx:\(data.path)", "--limit", "6",
                                      "--defenses", "deflection:3:2,region:0.05:4,randomization:0.8", "--attacks", "fgsm,deepfool",
                                      "--seeds", "2", "--classify", "2", "--eot", "2", "--epsilon", "0.1", "--output", out.path])
    try #require(r.status == 0, "\(r.stderr)")
    let table = try JSONDecoder().decode(DefenseTable.self, from: Data(contentsOf: out.appendingPathComponent("table.json")))
    #expect(table.defenses == ["none", "deflection n=3 w=2", "region r=0.05 m=4", "randomization s=0.8"])
    #expect(table.cells.count == 4 + 4 * 2 * 2 && table.count == 6)
    for file in ["table.csv", "table.md", "table.png", "manifest.json", "journal.json"] {
      #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file) missing")
    }
    let again = try CrashSafetyTests.run(["defense-table", "--model", model.path, "--data", "idx:\(data.path)", "--limit", "6",
                                          "--defenses", "deflection:3:2,region:0.05:4,randomization:0.8", "--attacks", "fgsm,deepfool",
                                          "--seeds", "2", "--classify", "2", "--eot", "2", "--epsilon", "0.1", "--output", out.path,
                                          "--resume"])
    #expect(again.status == 0 && again.stderr.contains("resuming: 20 cells finished") && !again.stderr.contains("× fgsm"), "\(again.stderr)")
  }

  @Test("defense rows and protocols are parsed and range-checked")
  func parsing() throws {
    #expect(try PixelRobustCommand.DefenseTableCommand.defense("region:0.03:500") == .region(radius: 0.03, votes: 500))
    #expect(try PixelRobustCommand.DefenseTableCommand.defense("deflection") == .deflection(count: 200, window: 10))
    #expect(try PixelRobustCommand.DefenseTableCommand.defense("runs/switch.safetensors") == .checkpoint("runs/switch.safetensors"))
    for (arguments, message) in [
      (["defense-table", "--model", "m", "--defenses", "blur", "--output", "d"], "unknown defense"),
      (["defense-table", "--model", "m", "--defenses", "region:2", "--output", "d"], "region:2"),
      (["defense-table", "--model", "m", "--protocols", "white-box", "--output", "d"], "white-box"),
      (["defense-table", "--model", "m", "--seeds", "0", "--output", "d"], "seeds"),
    ] {
      expectRejected(arguments, mentioning: message)
    }
  }
}
