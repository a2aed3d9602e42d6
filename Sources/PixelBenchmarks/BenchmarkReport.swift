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
}

/// The environment a benchmark ran in.
public struct BenchmarkEnvironment: Codable, Sendable {
  public var openBLASCoreType: String
  public var openBLASThreads: Int
  public var openBLASConfiguration: String
  public var kernelThreads: Int
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
    var lines = ["OpenBLAS \(environment.openBLASCoreType) kernels, \(environment.openBLASThreads) BLAS threads, "
                 + "\(environment.kernelThreads) kernel threads; \(environment.cpuModel)"]
    func fmt(_ v: Double?, _ unit: String) -> String {
      guard let v else { return "" }
      return v >= 100 ? String(format: "%.0f %@", v, unit) : String(format: "%.2f %@", v, unit)
    }
    lines.append(String(format: "%-44@ %12@ %16@ %18@", "benchmark" as NSString, "median" as NSString,
                        "GFLOP/s" as NSString, "rate" as NSString))
    for r in results {
      let rate = r.microsecondsPerItem.map { fmt($0, "µs/op") }
        ?? r.gigabytesPerSecond.map { fmt($0, "GB/s") } ?? r.itemsPerSecond.map { fmt($0, "items/s") } ?? ""
      lines.append(String(format: "%-44@ %9.3f ms %16@ %18@", r.name as NSString, r.medianMilliseconds,
                          fmt(r.gflopsPerSecond, "") as NSString, rate as NSString))
    }
    if let peakMemoryMiB { lines.append(String(format: "peak resident memory: %.0f MiB", peakMemoryMiB)) }
    return lines.joined(separator: "\n")
  }
}

extension BenchmarkEnvironment {
  /// Reads the current process's BLAS set-up and CPU.
  static func current(blasCore: String, blasThreads: Int, blasConfig: String, kernelThreads: Int) -> Self {
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let model = cpuinfo.split(separator: "\n").first { $0.hasPrefix("model name") }
      .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown"
    return .init(openBLASCoreType: blasCore, openBLASThreads: blasThreads, openBLASConfiguration: blasConfig,
                 kernelThreads: kernelThreads, cpuModel: model ?? "unknown", avx512: cpuinfo.contains(" avx512f"))
  }
}
