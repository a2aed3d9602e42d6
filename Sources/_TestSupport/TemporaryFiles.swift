import Foundation

/// The folder that holds this test process's temporary files, `pixelrobust-tests-<pid>` in the
/// system's temporary directory; it is removed when the process exits normally, so test runs
/// do not leave thousands of folders behind (a crashed run leaves only its own root).
public let temporaryRoot: URL = {
  let root = FileManager.default.temporaryDirectory
    .appendingPathComponent("pixelrobust-tests-\(ProcessInfo.processInfo.processIdentifier)")
  try! FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
  atexit { try? FileManager.default.removeItem(at: temporaryRoot) }
  return root
}()

/// A fresh path inside ``temporaryRoot``, `<prefix>-<UUID><suffix>`, not yet created: for a file
/// or folder that the code under test must create itself.
public func temporaryPath(_ prefix: String, suffix: String = "") -> URL {
  temporaryRoot.appendingPathComponent("\(prefix)-\(UUID().uuidString)\(suffix)")
}

/// A fresh, empty temporary folder inside ``temporaryRoot``.
public func temporaryFolder(_ prefix: String = "pixelrobust-test") -> URL {
  let url = temporaryPath(prefix)
  try! FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}
