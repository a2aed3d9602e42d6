import Foundation
import PixelData
import PixelTensor

/// The files of a result folder as its manifest lists them (and the manifest itself), as bytes
/// keyed by name, with `ignoring` applied to each file's text: what "a merge writes exactly what
/// a single run writes" compares.
/// - Parameter ignoring: rewrites a file's bytes before comparison (e.g. blanks a timing column);
///   the default keeps them.
public func resultFiles(_ folder: URL, ignoring: (String, Data) -> Data = { $1 }) throws -> [String: Data] {
  let manifest = try FolderManifest.verify(folder: folder)
  var out: [String: Data] = [:]
  for name in manifest.files.map(\.name) + [FolderManifest.fileName] {
    out[name] = ignoring(name, try Data(contentsOf: folder.appendingPathComponent(name)))
  }
  return out
}

/// Runs a job whole into `ROOT/whole` and as `shards` shards into `ROOT/part<i>`, merges the
/// parts (in reverse order, which a merge must not mind) into `ROOT/merged`, and returns the
/// whole and the merged folders.
public func wholeAndMerged(_ shards: Int, _ name: String, run: (Shard?, URL) throws -> Void,
                           merge: ([URL], URL) throws -> Void) throws -> (whole: URL, merged: URL) {
  let root = temporaryFolder(name)
  let whole = root.appendingPathComponent("whole")
  try run(nil, whole)
  let parts = try (0..<shards).map { i -> URL in
    let folder = root.appendingPathComponent("part\(i)")
    try run(try Shard(index: i, count: shards), folder)
    return folder
  }
  let merged = root.appendingPathComponent("merged")
  try merge(parts.reversed(), merged)
  return (whole, merged)
}
