import ArgumentParser
import Foundation
import PixelBenchmarks
import PixelTensor

extension PixelRobustCommand {
  /// `pixelrobust bench`: engine benchmarks as JSON.
  struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "bench",
      abstract: "Benchmark the tensor engine; prints JSON medians (GFLOP/s, images/s, peak memory).")

    @Option(help: "Timed runs per figure; the report gives medians.")
    var repeats = 7

    @Option(help: "Also write the JSON report to this file (atomically).")
    var json: String?

    @Option(help: "Only the benchmark groups whose name contains this (sgemm, conv2d, small-cnn, resnet20, wrn-16-4, analysis, attacks, smoothing, overhead, elementwise).")
    var filter: String?

    @Flag(help: "Print a readable table on standard error as well.")
    var summary = false

    @Flag(help: "Tiny problem sizes: checks that the benchmark runs, measures nothing useful.")
    var quick = false

    @Option(help: "Instead: benchmark these ONNX models (comma-separated): import, inference and input gradient.")
    var onnx: CommaList<String>?

    @Option(help: "Batch size of the --onnx figures.")
    var onnxBatch = 16

    func validate() throws {
      guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1.") }
      guard (1...4096).contains(onnxBatch) else { throw ValidationError("--onnx-batch must be in 1...4096.") }
      if onnx != nil, filter != nil || quick { throw ValidationError("--onnx runs on its own: no --filter or --quick.") }
    }

    func run() throws {
      try OutputCheck(files: [json].compactMap { $0 }).run()
      Console.announceRuntime()
      let benchmarks = EngineBenchmarks(repeats: repeats, quick: quick, filter: filter)
      let report = try onnx.map { files in
        try benchmarks.runImported(onnx: files.values.map { URL(cliPath: $0) }, batch: onnxBatch) { Console.note("  measuring \($0)…") }
      } ?? benchmarks.run { name in
        Console.note("  measuring \(name)…")
      }
      let data = try report.json()
      if let json { try AtomicFile.write(data, to: URL(fileURLWithPath: json)) }
      print(String(decoding: data, as: UTF8.self))
      if summary { Console.note(report.summary) }
    }
  }
}
