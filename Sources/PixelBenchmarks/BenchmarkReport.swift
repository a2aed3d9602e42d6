import PixelTensor
import Foundation

/// One measured figure: a median time and the rates derived from it.
public struct BenchmarkResult: Codable, Sendable {
  /// A stable identifier, e.g. `"sgemm.engine.1024x1024x1024"`.
  public var name: String
  /// What was measured, in words.
  public var detail: String
  /// Median wall time of one run in milliseconds.
  public var medianMilliseconds: Double
  /// Fastest run in milliseconds.
  public var minimumMilliseconds: Double
  /// Timed runs.
  public var samples: Int
  /// Floating-point throughput at the median, where the work has a FLOP count.
  public var gflopsPerSecond: Double?
  /// Items (images, elements, ops) per second at the median.
  public var itemsPerSecond: Double?
  /// Memory throughput in GB/s (bytes read plus written), for memory-bound kernels.
  public var gigabytesPerSecond: Double?
  /// Median time per item in microseconds (per-op overhead figures).
  public var microsecondsPerItem: Double?
  /// Peak resident memory in MiB while this figure ran (network figures).
  public var peakMemoryMiB: Double?
}

/// The environment a benchmark ran in.
public struct BenchmarkEnvironment: Codable, Sendable {
  public var openBLASCoreType: String
  /// Threads inside one OpenBLAS call (the engine splits large GEMMs across workers itself).
  public var openBLASThreadsPerCall: Int
  public var openBLASConfiguration: String
  /// The instruction set of the direct convolution and row GEMM (`avx2-fma` or `portable`).
  public var directKernels: String
  /// Workers that GEMM blocks, im2col and elementwise loops are split across.
  public var workers: Int
  public var cpuModel: String
  public var avx512: Bool
}

/// What `pixelrobust bench` prints as JSON.
public struct BenchmarkReport: Codable, Sendable {
  public var format = "pixelrobust-bench/1"
  public var environment: BenchmarkEnvironment
  public var results: [BenchmarkResult]
  /// Peak resident memory of the whole run in MiB.
  public var peakMemoryMiB: Double?

  /// Pretty, key-sorted JSON.
  public func json() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }

  /// A fixed-width table for people.
  public var summary: String {
    func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
      let fill = String(repeating: " ", count: Swift.max(0, width - s.count))
      return left ? fill + s : s + fill
    }
    func number(_ v: Double) -> String { v >= 100 ? String(format: "%.0f", v) : String(format: "%.2f", v) }
    func counted(_ n: Int, _ noun: String) -> String { "\(n) \(noun)\(n == 1 ? "" : "s")" }
    var lines = ["OpenBLAS \(environment.openBLASCoreType) kernels, convolutions \(environment.directKernels), "
                 + "\(counted(environment.openBLASThreadsPerCall, "OpenBLAS thread")) per call, "
                 + "\(counted(environment.workers, "worker")); \(environment.cpuModel)",
                 pad("benchmark", 40) + pad("median ms", 12, left: true) + pad("GFLOP/s", 10, left: true)
                 + pad("rate", 20, left: true) + pad("peak MiB", 10, left: true)]
    for r in results {
      let rate = r.microsecondsPerItem.map { number($0) + " µs/op" }
        ?? r.gigabytesPerSecond.map { number($0) + " GB/s" }
        ?? r.itemsPerSecond.map { number($0) + " images/s" } ?? ""
      lines.append(pad(r.name, 40) + pad(String(format: "%.3f", r.medianMilliseconds), 12, left: true)
                   + pad(r.gflopsPerSecond.map(number) ?? "", 10, left: true) + pad(rate, 20, left: true)
                   + pad(r.peakMemoryMiB.map { String(format: "%.0f", $0) } ?? "", 10, left: true))
    }
    if let peakMemoryMiB { lines.append(String(format: "peak resident memory: %.0f MiB", peakMemoryMiB)) }
    return lines.joined(separator: "\n")
  }
}

extension BenchmarkEnvironment {
  /// Reads the current process's BLAS set-up and CPU.
  static func current(blasCore: String, blasThreads: Int, blasConfig: String, workers: Int) -> Self {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
      .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
    return .init(openBLASCoreType: blasCore, openBLASThreadsPerCall: blasThreads, openBLASConfiguration: blasConfig,
                 directKernels: KernelConfig.directKernels, workers: workers, cpuModel: model, avx512: cpuinfo.contains(" avx512f"))
  }
}
