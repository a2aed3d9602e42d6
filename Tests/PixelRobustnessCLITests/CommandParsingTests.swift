import ArgumentParser
import Foundation
import Testing
@testable import PixelRobustnessCLI
import PixelBenchmarks

@Suite("pixelrobust command line")
struct CommandParsingTests {
  @Test("bench options parse")
  func benchParses() throws {
    let command = try PixelRobustCommand.parseAsRoot(["bench", "--repeats", "3", "--json", "out.json", "--summary", "--filter", "sgemm"])
    let bench = try #require(command as? PixelRobustCommand.BenchCommand)
    #expect(bench.repeats == 3)
    #expect(bench.json == "out.json")
    #expect(bench.summary)
    #expect(bench.filter == "sgemm")
  }

  @Test("invalid values are rejected with a message")
  func benchValidation() {
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["bench", "--repeats", "0"]) }
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["bench", "--repeats", "many"]) }
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["no-such-command"]) }
  }

  @Test("the root help lists every subcommand")
  func help() {
    let help = PixelRobustCommand.helpMessage()
    #expect(help.contains("bench"))
    #expect(help.contains("[0, 1]"))
  }

  @Test("a quick bench run writes a JSON report with medians")
  func quickBenchWritesJSON() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString).json")
    var command = try PixelRobustCommand.parseAsRoot(["bench", "--quick", "--repeats", "1", "--json", url.path, "--filter", "overhead"])
    try command.run()
    let report = try JSONDecoder().decode(BenchmarkReport.self, from: Data(contentsOf: url))
    #expect(report.format == "pixelrobust-bench/1")
    #expect(report.results.map(\.name).allSatisfy { $0.hasPrefix("overhead.") })
    #expect(report.results.allSatisfy { $0.medianMilliseconds > 0 })
    #expect(!report.environment.openBLASCoreType.isEmpty)
  }
}
