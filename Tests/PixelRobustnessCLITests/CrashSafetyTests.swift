import Foundation
import Testing
import PixelData
import PixelTensor
import _TestSupport

/// The tool as a user runs it: a separate process, killed with SIGKILL, on a full disk.
@Suite("Crash safety of the pixelrobust process", .serialized)
struct CrashSafetyTests {
  /// The tool built next to the tests (`make test` builds it before running them).
  static let tool = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent(".build/debug/pixelrobust")

  /// Writes a 10-class IDX data set of `n` 8×8 images (both splits) into a new folder.
  static func idxFolder(_ n: Int) throws -> URL {
    let dir = temporaryPath("crash")
    var rng = SeededGenerator(seed: 3)
    var pixels: [UInt8] = []
    for i in 0..<n { for p in 0..<64 { pixels.append(UInt8((p * 4 + (i % 10) * 20 + Int(rng.next() % 30)) % 256)) } }
    let labels = (0..<n).map { UInt8($0 % 10) }
    for split in ["train", "t10k"] {
      try IDX.write(dims: [n, 8, 8], bytes: pixels, to: dir.appendingPathComponent("\(split)-images-idx3-ubyte"))
      try IDX.write(dims: [n], bytes: labels, to: dir.appendingPathComponent("\(split)-labels-idx1-ubyte"))
    }
    return dir
  }

  /// Runs the tool with `arguments`, its environment this process's with `changes` applied
  /// (a nil value removes the variable), and returns its status and standard error.
  static func run(_ arguments: [String], killAfter seconds: Double? = nil,
                  environment changes: [String: String?] = [:]) throws -> (status: Int32, stderr: String) {
    let p = Process()
    p.executableURL = tool
    p.arguments = arguments
    if !changes.isEmpty {
      var env = ProcessInfo.processInfo.environment
      for (key, value) in changes { env[key] = value }
      p.environment = env
    }
    let errors = Pipe()
    p.standardError = errors
    p.standardOutput = FileHandle.nullDevice
    try p.run()
    if let seconds {
      Thread.sleep(forTimeInterval: seconds)
      kill(p.processIdentifier, SIGKILL)
    }
    let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return (p.terminationStatus, text)
  }

  @Test("twenty SIGKILLs at random moments of training lose nothing: the resumed run equals an uninterrupted one")
  func killLoop() throws {
    try #require(FileManager.default.isExecutableFile(atPath: Self.tool.path), "build the tool first: \(Self.tool.path)")
    let data = try Self.idxFolder(256)
    let out = data.appendingPathComponent("runs")
    let common = ["train", "--data", "idx:\(data.path)", "--arch", "mlp", "--hidden", "64", "--epochs", "8",
                  "--batch-size", "32", "--seed", "2"]
    let clock = ContinuousClock()
    let start = clock.now
    let reference = try Self.run(common + ["--output", out.appendingPathComponent("ref/m.safetensors").path])
    #expect(reference.status == 0, "\(reference.stderr)")
    let seconds = (clock.now - start).seconds
    let model = out.appendingPathComponent("killed/m.safetensors")
    var rng = SeededGenerator(seed: 11)
    var resumed = 0
    for _ in 0..<20 {
      let resume = FileManager.default.fileExists(atPath: model.path) ? ["--resume"] : []
      resumed += resume.count
      _ = try Self.run(common + ["--output", model.path] + resume, killAfter: seconds * Double(rng.nextUnitFloat()))
    }
    // Most kills must land after training started, or the test would not test resuming.
    #expect(resumed >= 10, "only \(resumed) of 20 runs had a checkpoint to resume from")
    let resume = FileManager.default.fileExists(atPath: model.path) ? ["--resume"] : []
    let last = try Self.run(common + ["--output", model.path] + resume)
    #expect(last.status == 0, "\(last.stderr)")
    #expect(try Data(contentsOf: model) == Data(contentsOf: out.appendingPathComponent("ref/m.safetensors")))
    let log = try String(contentsOf: out.appendingPathComponent("killed/m.log.jsonl"), encoding: .utf8)
    let epochs = log.split(separator: "\n").compactMap { line -> Int? in
      (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["epoch"] as? Int
    }
    #expect(epochs == Array(1...8), "log epochs \(epochs)")
  }

  @Test("a full disk fails the epoch with a plain message and keeps the previous checkpoint and state", .enabled(if: getuid() == 0))
  func fullDisk() throws {
    try #require(FileManager.default.isExecutableFile(atPath: Self.tool.path), "build the tool first: \(Self.tool.path)")
    let data = try Self.idxFolder(64)
    let mount = data.appendingPathComponent("small")
    try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
    // An mlp of 64·512 + 512·10 weights: a checkpoint of about 150 KB and an Adam state of 300 KB,
    // so one committed epoch (about 450 KB) fits in 700 KB but a second one beside it does not.
    let mounted = Process()
    mounted.executableURL = URL(fileURLWithPath: "/bin/mount")
    mounted.arguments = ["-t", "tmpfs", "-o", "size=700k", "tmpfs", mount.path]
    try mounted.run()
    mounted.waitUntilExit()
    try #require(mounted.terminationStatus == 0, "could not mount a tmpfs")
    defer {
      let u = Process()
      u.executableURL = URL(fileURLWithPath: "/bin/umount")
      u.arguments = [mount.path]
      try? u.run()
      u.waitUntilExit()
    }
    let model = mount.appendingPathComponent("m.safetensors")
    let common = ["train", "--data", "idx:\(data.path)", "--arch", "mlp", "--hidden", "512", "--batch-size", "16",
                  "--output", model.path]
    let first = try Self.run(common + ["--epochs", "1"])
    #expect(first.status == 0, "\(first.stderr)")
    let before = try Data(contentsOf: model)
    let second = try Self.run(common + ["--epochs", "3", "--resume"])
    #expect(second.status != 0)
    #expect(second.stderr.contains("No space left on device") && second.stderr.contains(mount.path), "\(second.stderr)")
    #expect(!second.stderr.contains("NSError") && !second.stderr.contains("Domain="))
    #expect(try Data(contentsOf: model) == before, "the epoch-1 checkpoint changed")
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: mount.path).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty, "temporary files left: \(leftovers)")
  }

  /// A trained 10-class mlp on an 8×8 IDX folder: (data folder, checkpoint).
  static func trainedModel() throws -> (URL, URL) {
    let data = try idxFolder(64)
    let model = data.appendingPathComponent("runs/m.safetensors")
    let r = try run(["train", "--data", "idx:\(data.path)", "--arch", "mlp", "--hidden", "8", "--epochs", "1", "--output", model.path])
    try #require(r.status == 0, "\(r.stderr)")
    return (data, model)
  }

  @Test("outputs that would replace an input or a data file are refused before any work, naming the path")
  func outputsNeverReplaceInputs() throws {
    let (data, model) = try Self.trainedModel()
    let before = try Data(contentsOf: model)
    let cases: [([String], String)] = [
      (["evaluate", "--model", model.path, "--data", "idx:\(data.path)", "--json", model.path], "is also an input"),
      (["train", "--data", "idx:\(data.path)", "--arch", "mlp", "--output", data.appendingPathComponent("train-images-idx3-ubyte").path],
       "would replace a file of the data set"),
      (["evaluate", "--model", model.path, "--data", "idx:\(data.path)", "--json", data.path], "is a folder, not a regular file"),
      (["gradient-map", "--model", model.path, "--data", "idx:\(data.path)", "--output", model.path], "is also an input"),
    ]
    for (arguments, message) in cases {
      let r = try Self.run(arguments)
      #expect(r.status != 0 && r.stderr.contains(message), "\(arguments): \(r.stderr)")
    }
    // A symbolic link is never replaced: writing through it would change a file elsewhere.
    let target = data.appendingPathComponent("elsewhere.json")
    try Data("{}".utf8).write(to: target)
    let link = data.appendingPathComponent("link.json")
    try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
    let r = try Self.run(["evaluate", "--model", model.path, "--data", "idx:\(data.path)", "--json", link.path])
    #expect(r.status != 0 && r.stderr.contains("symbolic link"), "\(r.stderr)")
    #expect(try Data(contentsOf: target) == Data("{}".utf8))
    #expect(try Data(contentsOf: model) == before)
  }

  @Test("labels outside the model's classes, NaN weights and a closed stderr give messages or clean exits, not signals")
  func hostileInputs() throws {
    let (data, model) = try Self.trainedModel()
    // An 11-class data set against the 10-class model.
    let eleven = try Self.idxFolder(64)
    let labels = (0..<64).map { UInt8($0 % 11) }
    try IDX.write(dims: [64], bytes: labels, to: eleven.appendingPathComponent("t10k-labels-idx1-ubyte"))
    let r = try Self.run(["evaluate", "--model", model.path, "--data", "idx:\(eleven.path)"])
    #expect(r.status == 1 && r.stderr.contains("has label 10, outside the 10 classes"), "\(r.stderr)")
    // A stray label 255 among ten classes.
    try IDX.write(dims: [64], bytes: labels.enumerated().map { $0.offset == 5 ? 255 : $0.element % 10 },
                  to: eleven.appendingPathComponent("t10k-labels-idx1-ubyte"))
    let stray = try Self.run(["evaluate", "--model", model.path, "--data", "idx:\(eleven.path)"])
    #expect(stray.status == 1 && stray.stderr.contains("a stray label?"), "\(stray.stderr)")
    // A checkpoint with a NaN weight.
    var archive = try SafeTensors.read(from: model)
    var w = archive.tensors["fc1.weight"]!.scalars
    w[3] = .nan
    archive.tensors["fc1.weight"] = Tensor(w, shape: archive.tensors["fc1.weight"]!.shape)
    let broken = data.appendingPathComponent("nan.safetensors")
    try SafeTensors.write(archive.tensors, metadata: archive.metadata, to: broken)
    let nan = try Self.run(["evaluate", "--model", broken.path, "--data", "idx:\(data.path)"])
    #expect(nan.status == 1 && nan.stderr.contains("'fc1.weight' holds 1 NaN"), "\(nan.stderr)")
    // Standard error closed: the command still runs to the end.
    let sh = Process()
    sh.executableURL = URL(fileURLWithPath: "/bin/sh")
    sh.arguments = ["-c", "'\(Self.tool.path)' evaluate --model '\(model.path)' --data 'idx:\(data.path)' >/dev/null 2>&-"]
    try sh.run()
    sh.waitUntilExit()
    #expect(sh.terminationReason == .exit && sh.terminationStatus == 0)
  }
}
