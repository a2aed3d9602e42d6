import Foundation
import PixelTensor

/// Standard-error output for progress and notes (standard output carries results).
enum Console {
  static let isTerminal = isatty(STDERR_FILENO) != 0

  static func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// Says which OpenBLAS kernels and how many threads this run uses (long-running commands
  /// call this first), with a hint when an inherited OPENBLAS_CORETYPE keeps AVX-512 off.
  static func announceRuntime() {
    note("pixelrobust: OpenBLAS \(BLASRuntime.coreName) kernels, one OpenBLAS thread per call, \(KernelConfig.workerCount) workers")
    if let forced = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], forced != "SkylakeX",
       BLASKernelSelection.cpuHasAVX512F {
      note("note: OPENBLAS_CORETYPE=\(forced) is set in the environment, so OpenBLAS's AVX-512 kernels are off; unset it to let pixelrobust pick SkylakeX")
    }
  }

  /// A progress bar that redraws in place on a terminal and prints a line per tenth otherwise.
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
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(done)/\(total) \(detail)\u{1B}[K".utf8))
        if done == total { FileHandle.standardError.write(Data("\n".utf8)) }
      } else {
        let tenth = Int(fraction * 10)
        guard tenth != lastTenth else { return }
        lastTenth = tenth
        Console.note("\(label) \(done)/\(total) \(detail)")
      }
    }
  }
}

extension URL {
  /// A file URL for a command-line path.
  init(cliPath: String) { self.init(fileURLWithPath: (cliPath as NSString).expandingTildeInPath) }
}
