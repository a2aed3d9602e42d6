import Foundation

/// The comma-separated tables PixelRobustness writes (no quoting: its cells are numbers and
/// names without commas), read back strictly for merging shards.
public enum CSVTable {
  /// The rows of `url` after its header line, each split into `columns` cells.
  /// - Throws: ``CSVError`` naming the file for another header, a row of another width or
  ///   text that is not UTF-8; file errors as ``FileBytes/read(_:)`` throws them.
  public static func read(_ url: URL, header: String, columns: Int) throws -> [[Substring]] {
    let data = try FileBytes.read(url)
    guard let text = String(data: data, encoding: .utf8) else { throw CSVError.malformed(path: url.path, detail: "not UTF-8 text") }
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
    if lines.last == "" { lines.removeLast() }
    guard let first = lines.first, first == header else {
      throw CSVError.malformed(path: url.path, detail: "the header is not '\(header)'")
    }
    return try lines.dropFirst().enumerated().map { n, line in
      let cells = line.split(separator: ",", omittingEmptySubsequences: false)
      guard cells.count == columns else {
        throw CSVError.malformed(path: url.path, detail: "line \(n + 2) has \(cells.count) cells, not \(columns)")
      }
      return cells
    }
  }
}

/// A table that is not what its writer writes; names the file.
public enum CSVError: Error, Equatable, CustomStringConvertible {
  case malformed(path: String, detail: String)

  public var description: String {
    switch self {
    case let .malformed(p, d): return "\(p): \(d)"
    }
  }
}
