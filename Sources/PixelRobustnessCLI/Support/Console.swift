import Foundation

/// Standard-error output for progress and notes (standard output carries results).
enum Console {
  static let isTerminal = isatty(STDERR_FILENO) != 0

  static func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
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
