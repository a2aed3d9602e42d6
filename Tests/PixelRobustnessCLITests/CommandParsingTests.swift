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

@Suite("train, evaluate and import command lines")
struct TrainingCommandParsingTests {
  @Test("train parses the documented recipe")
  func train() throws {
    let c = try PixelRobustCommand.parseAsRoot(["train", "--data", "fashion-mnist", "--arch", "small-cnn", "--epochs", "10",
                                                "--batch-size", "128", "--optimizer", "adam", "--lr", "1e-3", "--seed", "0",
                                                "--output", "runs/x/model.safetensors"])
    let train = try #require(c as? PixelRobustCommand.TrainCommand)
    #expect(train.settings.epochs == 10 && train.settings.learningRate == 1e-3 && train.settings.optimizer == .adam)
    #expect(train.output == "runs/x/model.safetensors")
  }

  @Test("train rejects bad settings with a message", arguments: [
    ["--optimizer", "lbfgs"], ["--epochs", "0"], ["--arch", "vgg"], ["--data", "mnist"], ["--nesterov"], ["--schedule", "linear"],
  ])
  func trainRejects(_ extra: [String]) {
    #expect(throws: (any Error).self) {
      try PixelRobustCommand.parseAsRoot(["train", "--output", "m.safetensors"] + extra)
    }
  }

  @Test("evaluate and import parse")
  func evaluateAndImport() throws {
    let e = try #require(try PixelRobustCommand.parseAsRoot(["evaluate", "--model", "m.safetensors", "--data", "cifar10:/d",
                                                             "--split", "train", "--limit", "100", "--logits", "l.npy"])
                         as? PixelRobustCommand.EvaluateCommand)
    #expect(e.data.limit == 100 && e.data.split == .train && e.logits == "l.npy")
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["evaluate", "--model", "m", "--limit", "0"]) }
    let i = try #require(try PixelRobustCommand.parseAsRoot(["import", "--spec", "s.json", "--weights", "w.safetensors",
                                                             "--output", "o.safetensors"]) as? PixelRobustCommand.ImportCommand)
    #expect(i.spec == "s.json")
  }
}
