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

@Suite("analysis, attack and PRM command lines")
struct AnalysisCommandParsingTests {
  @Test("gradient-map, attack and masked-sweep parse; masks and shards are validated")
  func analysisCommands() throws {
    let g = try #require(try PixelRobustCommand.parseAsRoot(["gradient-map", "--model", "m", "--per-class", "--signed",
                                                             "--target", "logit", "--shard", "1/4", "--output", "d"])
                         as? PixelRobustCommand.GradientMapCommand)
    #expect(g.perClass && g.signed && g.shard == "1/4")
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["gradient-map", "--model", "m", "--shard", "4/4", "--output", "d"]) }
    let a = try #require(try PixelRobustCommand.parseAsRoot(["attack", "--model", "m", "--attack", "fgsm", "--epsilon", "0,0.1",
                                                             "--mask", "pattern:v3@1,2", "--eot", "4", "--classify", "3", "--seeds", "2"])
                         as? PixelRobustCommand.AttackCommand)
    #expect(a.options.epsilons == [0, 0.1] && a.options.eot == 4 && a.seeds == 2)
    for bad in [["--epsilon", "-0.1"], ["--epsilon", "x"], ["--mask", "top:25"], ["--mask", "blob"], ["--steps", "0"], ["--eot", "0"]] {
      #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["attack", "--model", "m"] + bad) }
    }
    #expect(throws: (any Error).self) {
      try PixelRobustCommand.parseAsRoot(["masked-sweep", "--model", "m", "--map", "G.npy", "--fractions", "0,10", "--output", "d"])
    }
    #expect(throws: (any Error).self) {
      try PixelRobustCommand.parseAsRoot(["masked-sweep", "--model", "m", "--map", "G.npy", "--kinds", "top,left", "--output", "d"])
    }
  }

  @Test("prm train, sweep and defend parse and validate")
  func prmCommands() throws {
    let t = try #require(try PixelRobustCommand.parseAsRoot(["prm", "train", "--pattern", "v5", "--shift", "1,2", "--lambda", "0.5",
                                                             "--mix", "1", "--output", "m"]) as? PixelRobustCommand.PRMTrainCommand)
    #expect(t.lambda == 0.5 && t.designation.pattern == "v5")
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["prm", "train", "--pattern", "v9", "--output", "m"]) }
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["prm", "train", "--mix", "2", "--output", "m"]) }
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["prm", "train", "--freeze-classifier", "--output", "m"]) }
    let s = try #require(try PixelRobustCommand.parseAsRoot(["prm", "sweep", "--lambdas", "0,1,10", "--mixes", "0.5,1",
                                                             "--output", "d"]) as? PixelRobustCommand.PRMSweepCommand)
    #expect(s.lambdaValues == [0, 1, 10] && s.mixValues == [0.5, 1])
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["prm", "sweep", "--lambdas", "-1", "--output", "d"]) }
    #expect(throws: (any Error).self) { try PixelRobustCommand.parseAsRoot(["prm", "defend", "--output", "d"]) }
    #expect(try PixelRobustCommand.parseAsRoot(["prm", "defend", "--modules", "a,b", "--chain", "2", "--output", "d"])
            is PixelRobustCommand.PRMDefendCommand)
  }
}
