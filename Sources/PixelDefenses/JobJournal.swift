import Foundation
import PixelTensor

/// A problem with a long job's journal; names the file and the reason.
public enum JournalError: Error, CustomStringConvertible {
  /// The output folder's journal records another job.
  case foreignJournal(path: String, reason: String)
  /// The journal cannot be read.
  case unreadableJournal(path: String, reason: String)

  public var description: String {
    switch self {
    case let .foreignJournal(p, r):
      return "\(p): the journal belongs to another job (\(r)); resume with the same settings, or choose another --output"
    case let .unreadableJournal(p, r): return "\(p): cannot read the journal: \(r)"
    }
  }
}

/// The journal of a resumable job (`journal.json` in its output folder): a fingerprint — one line
/// per thing that determines the results — and whatever the job has finished so far.
enum JobJournal {
  /// The journal at `url` if there is one, after checking that its fingerprint equals `expected`.
  /// - Throws: ``JournalError`` for an unreadable journal or one of another job (naming the first
  ///   line that differs).
  static func load<J: Decodable>(_ type: J.Type, at url: URL, fingerprint: KeyPath<J, [String]>, expected: [String]) throws -> J? {
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    let saved: J
    do { saved = try JSONDecoder().decode(J.self, from: FileBytes.read(url)) } catch {
      throw JournalError.unreadableJournal(path: url.path, reason: "\(error)")
    }
    let lines = saved[keyPath: fingerprint]
    guard lines != expected else { return saved }
    let shorter = Swift.min(lines.count, expected.count)
    let k = (0..<shorter).first { lines[$0] != expected[$0] } ?? shorter
    func line(_ a: [String]) -> String { k < a.count ? a[k] : "no more runs" }
    throw JournalError.foreignJournal(path: url.path, reason: "it records \"\(line(lines))\", this job \"\(line(expected))\"")
  }
}
