import Foundation
import PixelTensor

/// The identity of one shard's output folder: which job (kind, model digest, data set,
/// settings, seed) it is a part of, and which part. It lives in the folder's
/// ``FolderManifest`` identity under the `partial.` keys, so a folder whose manifest verifies
/// is a complete part, and `pixelrobust merge` can tell what kind of result it holds.
public struct PartialResult: Sendable, Equatable {
  /// The reserved manifest keys.
  public enum Key {
    public static let kind = "partial.kind"
    public static let shard = "partial.shard"
    public static let range = "partial.range"
    public static let examples = "partial.examples"
  }

  /// The job's kind, e.g. `evaluate`, `gradient-map`, `attack`, `smooth-certify`.
  public var kind: String
  /// Which part.
  public var shard: Shard
  /// The examples of the whole data set this part holds (global indices).
  public var range: Range<Int>
  /// The size of the whole data set.
  public var examples: Int
  /// Everything that must agree between parts: model digest, data set, settings, seed.
  public var job: [String: String]

  /// A part's identity.
  public init(kind: String, shard: Shard, range: Range<Int>, examples: Int, job: [String: String]) {
    precondition(range.lowerBound >= 0 && range.upperBound <= examples, "a part lies inside its data set")
    precondition(job.keys.allSatisfy { !$0.hasPrefix("partial.") }, "partial.* keys are reserved")
    self.kind = kind; self.shard = shard; self.range = range; self.examples = examples; self.job = job
  }

  /// The identity as manifest entries.
  public var manifestIdentity: [String: String] {
    job.merging([Key.kind: kind, Key.shard: shard.description, Key.range: "\(range.lowerBound)..<\(range.upperBound)",
                 Key.examples: String(examples)]) { a, _ in a }
  }

  /// The part `folder`'s verified manifest describes.
  /// - Throws: ``FolderManifestError`` for an unfinished or altered folder,
  ///   ``PartialResultError/notPartial(folder:)`` for a complete folder that is not a part.
  public init(folder: URL) throws {
    let identity = try FolderManifest.verify(folder: folder).identity
    guard let kind = identity[Key.kind], let shardText = identity[Key.shard], let shard = try? Shard(parsing: shardText),
          let examplesText = identity[Key.examples], let examples = Int(examplesText), examples >= 0,
          let rangeText = identity[Key.range] else {
      throw PartialResultError.notPartial(folder: folder.path)
    }
    let bounds = rangeText.components(separatedBy: "..<").map { Int($0) }
    guard bounds.count == 2, let lo = bounds[0], let hi = bounds[1], lo >= 0, lo <= hi, hi <= examples else {
      throw PartialResultError.notPartial(folder: folder.path)
    }
    self.init(kind: kind, shard: shard, range: lo..<hi, examples: examples,
              job: identity.filter { !$0.key.hasPrefix("partial.") })
  }

  /// Reads the parts in `folders` and checks that they are all the parts of one job: the same
  /// kind and job identity, each shard once, none missing, their ranges tiling the data set.
  /// - Returns: the parts in shard order.
  /// - Throws: ``PartialResultError`` naming the folder at fault, ``FolderManifestError`` for an
  ///   unfinished one.
  public static func collect(_ folders: [URL]) throws -> [(folder: URL, part: PartialResult)] {
    guard let first = folders.first else { throw PartialResultError.noFolders }
    let parts = try folders.map { (folder: $0, part: try PartialResult(folder: $0)) }
    let reference = parts[0].part
    var byIndex: [Int: URL] = [:]
    for (folder, part) in parts {
      if part.kind != reference.kind {
        throw PartialResultError.foreign(folder: folder.path, key: "kind", value: part.kind, reference: first.path, expected: reference.kind)
      }
      for key in Set(part.job.keys).union(reference.job.keys).sorted() where part.job[key] != reference.job[key] {
        throw PartialResultError.foreign(folder: folder.path, key: key, value: part.job[key] ?? "none",
                                         reference: first.path, expected: reference.job[key] ?? "none")
      }
      if part.examples != reference.examples {
        throw PartialResultError.foreign(folder: folder.path, key: "examples", value: String(part.examples),
                                         reference: first.path, expected: String(reference.examples))
      }
      if part.shard.count != reference.shard.count {
        throw PartialResultError.foreign(folder: folder.path, key: "shard count", value: String(part.shard.count),
                                         reference: first.path, expected: String(reference.shard.count))
      }
      if let previous = byIndex[part.shard.index] {
        throw PartialResultError.repeated(folder: folder.path, shard: part.shard.description, previous: previous.path)
      }
      byIndex[part.shard.index] = folder
    }
    let missing = (0..<reference.shard.count).filter { byIndex[$0] == nil }
    if !missing.isEmpty {
      throw PartialResultError.missing(missing.map { "\($0)/\(reference.shard.count)" })
    }
    let ordered = parts.sorted { $0.part.shard.index < $1.part.shard.index }
    var next = 0
    for (folder, part) in ordered {
      guard part.range.lowerBound == next else {
        throw PartialResultError.gap(folder: folder.path, detail: "starts at example \(part.range.lowerBound), expected \(next)")
      }
      next = part.range.upperBound
    }
    guard next == reference.examples else {
      throw PartialResultError.gap(folder: ordered.last!.folder.path, detail: "ends at example \(next) of \(reference.examples)")
    }
    return ordered
  }
}

/// Folders that are not the complete set of parts of one job; each case names the folder.
public enum PartialResultError: Error, Equatable, CustomStringConvertible {
  case noFolders
  case notPartial(folder: String)
  case foreign(folder: String, key: String, value: String, reference: String, expected: String)
  case repeated(folder: String, shard: String, previous: String)
  case missing([String])
  case gap(folder: String, detail: String)
  /// The parts are of a kind this merge does not combine.
  case unsupportedKind(folder: String, kind: String)

  public var description: String {
    switch self {
    case .noFolders: return "no shard folders given"
    case let .notPartial(f): return "\(f): not a shard's output (its manifest has no partial.* identity); run the command with --shard i/n"
    case let .foreign(f, k, v, r, e): return "\(f) is of another job: \(k) = \(v), but \(r) has \(e)"
    case let .repeated(f, s, p): return "\(f) repeats shard \(s) of \(p)"
    case let .missing(s): return "shard\(s.count == 1 ? "" : "s") \(s.joined(separator: ", ")) \(s.count == 1 ? "is" : "are") missing"
    case let .gap(f, d): return "\(f): \(d) (the shards were cut with different settings)"
    case let .unsupportedKind(f, k): return "\(f): parts of kind '\(k)' cannot be merged by this version"
    }
  }
}
