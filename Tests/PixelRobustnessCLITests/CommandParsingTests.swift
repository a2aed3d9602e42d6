import ArgumentParser
import Foundation
import Testing
@testable import PixelRobustnessCLI
import PixelTraining
import PixelBenchmarks
import _TestSupport

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

  @Test("invalid values are rejected with a message naming the option or value")
  func benchValidation() {
    expectRejected(["bench", "--repeats", "0"], mentioning: "--repeats must be at least 1")
    expectRejected(["bench", "--repeats", "many"], mentioning: "many")
    expectRejected(["bench", "--onnx", "a.onnx", "--filter", "sgemm"], mentioning: "--onnx runs on its own")
    expectRejected(["bench", "--onnx", "a.onnx", "--onnx-batch", "0"], mentioning: "--onnx-batch")
    expectRejected(["no-such-command"], mentioning: "no-such-command")
  }

  @Test("the root help lists every subcommand; --version prints the version")
  func help() {
    let help = PixelRobustCommand.helpMessage()
    let names = PixelRobustCommand.configuration.subcommands.map { $0.configuration.commandName ?? "?" }
    #expect(names.count == 16)
    for name in names { #expect(help.contains("  \(name) "), "root help lacks \(name)") }
    #expect(help.contains("[0, 1]"))
    #expect(PixelRobustCommand.configuration.version == pixelrobustVersion)
    expectRejected(["--version"], mentioning: pixelrobustVersion)
  }

  @Test("a quick bench run writes a JSON report with medians")
  func quickBenchWritesJSON() throws {
    let url = temporaryPath("bench", suffix: ".json")
    var command = try PixelRobustCommand.parseAsRoot(["bench", "--quick", "--repeats", "1", "--json", url.path, "--filter", "overhead"])
    try command.run()
    let report = try JSONDecoder().decode(BenchmarkReport.self, from: Data(contentsOf: url))
    #expect(report.format == "pixelrobust-bench/1")
    #expect(report.results.map(\.name).allSatisfy { $0.hasPrefix("overhead.") })
    #expect(report.results.allSatisfy { $0.medianMilliseconds > 0 })
    #expect(!report.environment.openBLASCoreType.isEmpty)
  }

  @Test("the resnet20 figures cover training, double backprop, inference, the input gradient and PGD-10, each with its peak memory")
  func networkBench() throws {
    let report = EngineBenchmarks(repeats: 1, quick: true, filter: "resnet20").run()
    #expect(report.results.map(\.name) == ["train-step", "double-backprop-step", "evaluate", "input-gradient", "pgd-10"].map { "resnet20.\($0)" })
    #expect(report.results.allSatisfy { $0.medianMilliseconds > 0 && ($0.peakMemoryMiB ?? 0) > 0 })
    #expect(ProcessMemory.resetPeak())
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

  @Test("train rejects bad settings with a message naming the option or value", arguments: [
    (["--optimizer", "lbfgs"], "lbfgs"), (["--epochs", "0"], "epochs must be at least 1"), (["--arch", "vgg"], "vgg"),
    (["--data", "mnist"], "mnist"), (["--nesterov"], "Nesterov"), (["--schedule", "linear"], "linear"),
    (["--momentum", "nan"], "--momentum"), (["--lr", "inf"], "--lr"), (["--gamma", "0"], "gamma"),
    (["--hidden", "256,abc"], "256,abc"), (["--wide", "16"], "--wide"), (["--label-smoothing", "1"], "label smoothing"),
  ])
  func trainRejects(_ extra: [String], _ message: String) {
    expectRejected(["train", "--output", "m.safetensors"] + extra, mentioning: message)
  }

  @Test("train --objective takes the objective's own options and checks them")
  func objectives() throws {
    let t = try #require(try PixelRobustCommand.parseAsRoot(["train", "--objective", "gradient-regularization", "--lambda", "56234",
                                                             "--lambda-convention", "authors", "--output", "m.safetensors"])
                         as? PixelRobustCommand.TrainCommand)
    #expect(t.settings.objective == ObjectiveSettings(kind: .gradientRegularization, lambda: 56234, lambdaConvention: "authors"))
    let plain = try #require(try PixelRobustCommand.parseAsRoot(["train", "--output", "m.safetensors"]) as? PixelRobustCommand.TrainCommand)
    #expect(plain.settings.objective == nil)
    let trades = try #require(try PixelRobustCommand.parseAsRoot(["train", "--objective", "trades", "--epsilon", "0.3", "--beta", "6",
                                                                  "--output", "m.safetensors"]) as? PixelRobustCommand.TrainCommand)
    #expect(trades.settings.objective?.epsilon == 0.3 && trades.settings.objective?.beta == 6)
    for (extra, message) in [(["--objective", "trades"], "trades needs ε"), (["--objective", "insensitivity"], "needs λ"),
                             (["--objective", "distillation", "--temperature", "50"], "needs a teacher"),
                             (["--objective", "gradient-regularization", "--lambda", "nan"], "λ must be"),
                             (["--objective", "fgsm-adversarial", "--epsilon", "3"], "ε must be"),
                             (["--objective", "mixup"], "mixup")] {
      expectRejected(["train", "--output", "m.safetensors"] + extra, mentioning: message)
    }
  }

  @Test("choices are enums with their values in --help")
  func choicesInHelp() {
    let train = PixelRobustCommand.helpMessage(for: PixelRobustCommand.TrainCommand.self)
    #expect(train.contains("sgd") && train.contains("adamw") && train.contains("cosine") && train.contains("wide-resnet"))
    let prm = PixelRobustCommand.helpMessage(for: PixelRobustCommand.PRMTrainCommand.self)
    #expect(prm.contains("v5"))
  }

  @Test("evaluate and import parse")
  func evaluateAndImport() throws {
    let e = try #require(try PixelRobustCommand.parseAsRoot(["evaluate", "--model", "m.safetensors", "--data", "cifar10:/d",
                                                             "--split", "train", "--limit", "100", "--logits", "l.npy"])
                         as? PixelRobustCommand.EvaluateCommand)
    #expect(e.data.limit == 100 && e.data.split == .train && e.logits == "l.npy")
    expectRejected(["evaluate", "--model", "m", "--limit", "0"], mentioning: "--limit must be at least 1")
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
    #expect(g.rendering.perClass && g.rendering.signed && g.sharding.shard == "1/4")
    for bad in ["4/4", "1/0", "1/4/2", " 1/4", "+1/4", "1/9999999999999999999999"] {
      expectRejected(["gradient-map", "--model", "m", "--shard", bad, "--output", "d"], mentioning: "invalid shard")
    }
    let m = try #require(try PixelRobustCommand.parseAsRoot(["merge", "a", "b", "--output", "d"]) as? PixelRobustCommand.MergeCommand)
    #expect(m.folders == ["a", "b"])
    expectRejected(["merge", "--output", "d"], mentioning: "shard folders")
    expectRejected(["evaluate", "--model", "m", "--shard", "0/2"], mentioning: "--output")
    expectRejected(["evaluate", "--model", "m", "--output", "d", "--json", "r.json"], mentioning: "--json")
    expectRejected(["attack", "--model", "m", "--attack", "pgd", "--shard", "0/2"], mentioning: "--output")
    expectRejected(["attack", "--model", "m", "--attack", "pgd", "--shard", "0/2", "--output", "d", "--repeats", "2"], mentioning: "--repeats")
    #expect(try PixelRobustCommand.parseAsRoot(["attack", "--model", "m", "--attack", "cw", "--norm", "l2", "--shard", "0/2",
                                                "--output", "d"]) is PixelRobustCommand.AttackCommand)
    let slurm = try #require(try PixelRobustCommand.parseAsRoot(["slurm", "smooth", "certify", "--model", "m", "--samples", "50",
                                                                 "--shards", "3", "--run", "r", "--time", "00:10:00"])
                             as? PixelRobustCommand.SlurmCommand)
    #expect(slurm.command == ["smooth", "certify", "--model", "m", "--samples", "50"] && slurm.shards == 3)
    expectRejected(["slurm", "train", "--shards", "2", "--run", "r"], mentioning: "cannot be sharded")
    expectRejected(["slurm", "gradient-map", "--model", "m", "--shards", "2", "--run", "r", "--output", "o"], mentioning: "drop --output")
    expectRejected(["slurm", "gradient-map", "--modle", "m", "--shards", "2", "--run", "r"], mentioning: "does not parse")
    expectRejected(["slurm", "attack", "--model", "m", "--attack", "deepfool", "--shards", "2", "--run", "r", "--repeats", "2"],
                   mentioning: "--repeats")
    let a = try #require(try PixelRobustCommand.parseAsRoot(["attack", "--model", "m", "--attack", "pgd", "--epsilon", "0,0.1",
                                                             "--steps", "10,20", "--mask", "pattern:v3@1,2", "--eot", "4",
                                                             "--classify", "3", "--repeats", "2"])
                         as? PixelRobustCommand.AttackCommand)
    #expect(a.options.epsilons == [0, 0.1] && a.options.settings.steps == [10, 20] && a.options.eot == 4 && a.repeats == 2)
    #expect(try a.options.settings.attacks().map(\.name) == ["eot4-pgd-10", "eot4-pgd-20"])
    // The old spelling of --repeats still works.
    let old = try #require(try PixelRobustCommand.parseAsRoot(["attack", "--model", "m", "--seeds", "3"]) as? PixelRobustCommand.AttackCommand)
    #expect(old.repeats == 3)
    for (bad, message) in [(["--epsilon=-0.1"], "-0.1"), (["--epsilon", "x"], "x"), (["--epsilon", "0.1,,0.2"], "0.1,,0.2"),
                           (["--epsilon", "1.5"], "above 1"), (["--mask", "top:25"], "--map"), (["--mask", "blob"], "blob"),
                           (["--mask", "pattern:v0@-9223372036854775808,0"], "1048576"), (["--steps", "0"], "steps"),
                           (["--eot", "0"], "EOT"), (["--repeats", "0"], "--repeats")] {
      expectRejected(["attack", "--model", "m"] + bad, mentioning: message)
    }
    expectRejected(["masked-sweep", "--model", "m", "--map", "G.npy", "--fractions", "0,10", "--output", "d"], mentioning: "--fractions")
    expectRejected(["masked-sweep", "--model", "m", "--map", "G.npy", "--kinds", "top,left", "--output", "d"], mentioning: "top,left")
    let sweep = try #require(try PixelRobustCommand.parseAsRoot(["masked-sweep", "--model", "m", "--map", "G.npy", "--random-seeds", "5",
                                                                 "--epsilon", "0.05,0.1", "--output", "d"]) as? PixelRobustCommand.MaskedSweepCommand)
    #expect(sweep.randomMasks == 5 && sweep.options.epsilons == [0.05, 0.1])
  }

  @Test("prm train, sweep and defend parse and validate")
  func prmCommands() throws {
    let t = try #require(try PixelRobustCommand.parseAsRoot(["prm", "train", "--pattern", "v5", "--shift", "1,2", "--lambda", "0.5",
                                                             "--mix", "1", "--output", "m"]) as? PixelRobustCommand.PRMTrainCommand)
    #expect(t.lambda == 0.5 && t.designation.pattern == .v5 && t.designation.shift.values == [1, 2])
    expectRejected(["prm", "train", "--pattern", "v9", "--output", "m"], mentioning: "v9")
    expectRejected(["prm", "train", "--mix", "2", "--output", "m"], mentioning: "--mix")
    expectRejected(["prm", "train", "--freeze-classifier", "--output", "m"], mentioning: "--classifier")
    expectRejected(["prm", "train", "--shift", "1,x,2", "--output", "m"], mentioning: "1,x,2")
    expectRejected(["prm", "train", "--shift", "1,2,3", "--output", "m"], mentioning: "--shift")
    expectRejected(["prm", "train", "--lambda", "nan", "--output", "m"], mentioning: "--lambda")
    let s = try #require(try PixelRobustCommand.parseAsRoot(["prm", "sweep", "--lambdas", "0,1,10", "--mixes", "0.5,1",
                                                             "--output", "d"]) as? PixelRobustCommand.PRMSweepCommand)
    #expect(s.lambdaValues == [0, 1, 10] && s.mixValues == [0.5, 1])
    let lists = try #require(try PixelRobustCommand.parseAsRoot(["prm", "sweep", "--epsilon", "0.05,0.1", "--steps", "5,10",
                                                                 "--output", "d"]) as? PixelRobustCommand.PRMSweepCommand)
    #expect(lists.epsilon.values == [0.05, 0.1] && lists.steps.values == [5, 10])
    expectRejected(["prm", "sweep", "--lambdas", "-1", "--output", "d"], mentioning: "--lambdas")
    expectRejected(["prm", "sweep", "--lambdas", "0,,1", "--output", "d"], mentioning: "0,,1")
    expectRejected(["prm", "defend", "--output", "d"], mentioning: "--models")
    let d = try #require(try PixelRobustCommand.parseAsRoot(["prm", "defend", "--models", "a,b", "--chain", "2", "--output", "d"])
                         as? PixelRobustCommand.PRMDefendCommand)
    #expect(d.models?.values == ["a", "b"])
    // The old spellings still work.
    let old = try #require(try PixelRobustCommand.parseAsRoot(["prm", "defend", "--modules", "a,b", "--output", "d"])
                           as? PixelRobustCommand.PRMDefendCommand)
    #expect(old.models?.values == ["a", "b"])
    let resize = try #require(try PixelRobustCommand.parseAsRoot(["prm", "defend", "--resize-pad", "m", "--output", "d"])
                              as? PixelRobustCommand.PRMDefendCommand)
    #expect(resize.model == "m" && resize.models == nil)
  }
}

/// Expects `arguments` to be refused with a message that contains `fragment` (the option or value).
func expectRejected(_ arguments: [String], mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
  do {
    _ = try PixelRobustCommand.parseAsRoot(arguments)
    Issue.record("accepted \(arguments)", sourceLocation: sourceLocation)
  } catch {
    let message = PixelRobustCommand.fullMessage(for: error)
    #expect(message.contains(fragment), "\(arguments): \(message)", sourceLocation: sourceLocation)
  }
}

@Suite("progress meters")
struct ImageMeterTests {
  @Test("images are counted across passes, also when a pass is a single batch")
  func countsAcrossPasses() {
    let meter = Console.ImageMeter("test")
    for _ in 0..<2 { for done in [256, 512, 600] { meter.update(done: done, total: 600) } }
    for _ in 0..<3 { meter.update(done: 600, total: 600) }
    #expect(meter.images == 3000)
    #expect(meter.summary.hasPrefix("test: 3000 images in "))
  }
}
