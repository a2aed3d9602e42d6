import Foundation
import PixelTraining
import PixelTensor

/// Standard-error output for progress and notes (standard output carries results).
enum Console {
  static let isTerminal = isatty(STDERR_FILENO) != 0

  static func note(_ text: String) { writeStandardError(text + "\n") }

  /// Writes to standard error, ignoring failures: a closed or full stderr must not stop a run
  /// (FileHandle.write would trap on EBADF).
  static func writeStandardError(_ text: String) {
    Array(text.utf8).withUnsafeBytes { buffer in
      guard let base = buffer.baseAddress else { return }
      var offset = 0
      while offset < buffer.count {
        let n = write(STDERR_FILENO, base + offset, buffer.count - offset)
        if n <= 0 { return }
        offset += n
      }
    }
  }

  /// Says which OpenBLAS kernels and how many threads this run uses (long-running commands
  /// call this first), with a hint when an inherited OPENBLAS_CORETYPE keeps AVX-512 off.
  static func announceRuntime() {
    note("pixelrobust: OpenBLAS \(BLASRuntime.coreName) kernels, one OpenBLAS thread per call, convolutions \(KernelConfig.directKernels), \(KernelConfig.workerCount) worker\(KernelConfig.workerCount == 1 ? "" : "s")")
    if let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], forced != "SkylakeX",
       BLASKernelSelection.cpuHasAVX512F {
      note("note: OPENBLAS_CORETYPE=\(forced) is set in the environment, so OpenBLAS's AVX-512 kernels are off; unset it to let pixelrobust pick SkylakeX")
    }
  }

  /// A progress bar that redraws in place on a terminal and prints a line per tenth otherwise.
  /// The batch-progress callback of a training run of `epochs`: a bar of the epoch's batches with
  /// the running loss and throughput, drawn only by the process that reports (`lead`: rank 0 of
  /// a data-parallel run, or the only process).
  static func epochProgress(lead: Bool, epochs: Int) -> (BatchProgress) -> Void {
    let bar = lead ? ProgressBar() : nil
    return { p in
      bar?.update(label: "epoch \(p.epoch)/\(epochs)", done: p.batch, total: p.batches,
                  detail: String(format: "loss %.4f, %.0f images/s", p.runningLoss, p.imagesPerSecond))
    }
  }

  final class ProgressBar {
    private var lastTenth = -1
    private var lastDraw = Date.distantPast

    func update(label: String, done: Int, total: Int, detail: String) {
      let fraction = total > 0 ? Double(done) / Double(total) : 1
      if Console.isTerminal {
        guard done == total || Date().timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = Date()
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        Console.writeStandardError("\r\(label) \(bar) \(done)/\(total) \(detail)\u{1B}[K")
        if done == total { Console.writeStandardError("\n") }
      } else {
        let tenth = Int(fraction * 10)
        guard tenth != lastTenth else { return }
        lastTenth = tenth
        Console.note("\(label) \(done)/\(total) \(detail)")
      }
    }
  }
}

extension Console {
  /// Progress over images with a rate: a progress bar whose detail says images/s, across
  /// passes (an attack runs one pass per ε), and a closing line with the total and the rate.
  final class ImageMeter {
    private let label: String
    private let bar = ProgressBar()
    private let clock = ContinuousClock()
    private let start: ContinuousClock.Instant
    private var passStart: ContinuousClock.Instant
    private var lastUpdate: ContinuousClock.Instant
    private var lastDone = 0, lastTotal = -1
    private(set) var images = 0

    init(_ label: String) {
      self.label = label
      start = clock.now
      passStart = start
      lastUpdate = start
    }

    /// `done` of `total` images of the current pass are finished.
    func update(done: Int, total: Int) {
      let now = clock.now
      // A finished pass (or a smaller count) means this update starts the next one, which
      // began when the previous one ended.
      if lastDone == lastTotal || done < lastDone {
        passStart = lastUpdate
        lastDone = 0
      }
      images += done - lastDone
      (lastDone, lastTotal, lastUpdate) = (done, total, now)
      bar.update(label: label, done: done, total: total,
                 detail: String(format: "%.0f images/s", Double(done) / Swift.max((now - passStart).seconds, 1e-9)))
    }

    /// "N images in T s (R images/s)" over every pass.
    var summary: String {
      let seconds = Swift.max((clock.now - start).seconds, 1e-9)
      return String(format: "%@: %d images in %.1f s (%.0f images/s)", label, images, seconds, Double(images) / seconds)
    }
  }
}

extension URL {
  /// A file URL for a command-line path.
  init(cliPath: String) { self.init(fileURLWithPath: (cliPath as NSString).expandingTildeInPath) }
}
