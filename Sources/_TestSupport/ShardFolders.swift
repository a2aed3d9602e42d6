import Foundation
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
