import Foundation
import PixelTensor

/// Repeated timing with a warm-up; reports the median, which shrugs off the machine's noise.
struct Stopwatch {
  /// Runs `body` once to warm up, then `repeats` times, and returns the sorted times in seconds.
  /// When one run is short, each sample times as many runs as fit in about 20 ms.
  static func samples(repeats: Int, _ body: () -> Void) -> [Double] {
    body()
    let clock = ContinuousClock()
    let first = clock.measure(body)
    let seconds = first.seconds
    let inner = seconds > 0.02 ? 1 : Swift.max(1, Int(0.02 / Swift.max(seconds, 1e-9)))
    var out: [Double] = []
    for _ in 0..<repeats {
      let d = clock.measure { for _ in 0..<inner { body() } }
      out.append(d.seconds / Double(inner))
    }
    return out.sorted()
  }

  static func median(_ sorted: [Double]) -> Double {
    let n = sorted.count
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
  }
}

/// Memory figures of this process from `/proc/self/status`.
public enum ProcessMemory {
  /// Peak resident set size (`VmHWM`) in MiB, or `nil` where `/proc` is unavailable.
  public static var peakResidentMiB: Double? { field("VmHWM") }

  /// Restarts the peak at the current resident size (Linux ≥ 4.0: `5` into `/proc/self/clear_refs`),
  /// so that the next ``peakResidentMiB`` is the peak of what ran since; `false` where unsupported.
  @discardableResult
  public static func resetPeak() -> Bool {
    guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
    defer { try? handle.close() }
    return (try? handle.write(contentsOf: Data("5".utf8))) != nil
  }

  private static func field(_ name: String) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(name + ":") {
      let parts = line.split(separator: " ", omittingEmptySubsequences: true)
      if parts.count >= 2, let kb = Double(parts[1]) { return kb / 1024 }
    }
    return nil
  }
}
