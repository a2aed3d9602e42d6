import Foundation

/// A file that could not be written; names the path and the reason in plain words.
public enum AtomicFileError: Error, Equatable, CustomStringConvertible {
  /// The path exists and is not a regular file (a folder, a symlink, a device): never replaced.
  case notARegularFile(path: String, kind: String)
  /// The folder for the file does not exist and cannot be made, or cannot be written.
  case unwritableFolder(path: String, reason: String)
  /// Writing, flushing or renaming failed (e.g. the disk is full); the old file is untouched.
  case writeFailed(path: String, reason: String)

  public var description: String {
    switch self {
    case let .notARegularFile(p, k): return "\(p): is \(k), not a regular file; refusing to replace it"
    case let .unwritableFolder(p, r): return "\(p): cannot write into this folder: \(r)"
    case let .writeFailed(p, r): return "\(p): could not be written: \(r)"
    }
  }
}

/// Whole-file writes that either land completely or not at all.
public enum AtomicFile {
  /// Writes `data` to a temporary file beside `url`, flushes it, then renames it over `url`.
  /// Creates missing parent folders. Only a regular file at `url` is ever replaced.
  /// - Throws: ``AtomicFileError``; on failure the previous file at `url` is unchanged.
  public static func write(_ data: Data, to url: URL) throws {
    try checkWritable(url)
    let folder = url.deletingLastPathComponent()
    do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
      throw AtomicFileError.unwritableFolder(path: folder.path, reason: plainReason(error))
    }
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw AtomicFileError.unwritableFolder(path: folder.path, reason: String(cString: strerror(errno))) }
    var failure: String?
    data.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
        if n < 0 {
          if errno == EINTR { continue }
          failure = String(cString: strerror(errno))
          return
        }
        offset += n
      }
    }
    if failure == nil, fsync(fd) != 0 { failure = String(cString: strerror(errno)) }
    if close(fd) != 0, failure == nil { failure = String(cString: strerror(errno)) }
    if failure == nil, rename(temporary.path, url.path) != 0 { failure = String(cString: strerror(errno)) }
    if let failure {
      unlink(temporary.path)
      throw AtomicFileError.writeFailed(path: url.path, reason: failure)
    }
  }

  /// Writes `value` as pretty-printed JSON with sorted keys (stable bytes), atomically.
  public static func writeJSON<T: Encodable>(_ value: T, to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try write(encoder.encode(value), to: url)
  }

  /// Throws unless `url` can be written by ``write(_:to:)``: it is absent or a regular file
  /// (not a folder, symlink or device), and its nearest existing ancestor is a writable folder.
  /// Commands call this before hours of work, not after.
  public static func checkWritable(_ url: URL) throws {
    var info = stat()
    if lstat(url.path, &info) == 0 {
      let kind = info.st_mode & S_IFMT
      guard kind == S_IFREG else {
        let name = kind == S_IFDIR ? "a folder" : kind == S_IFLNK ? "a symbolic link" : "a device or special file"
        throw AtomicFileError.notARegularFile(path: url.path, kind: name)
      }
    }
    var folder = url.deletingLastPathComponent()
    while lstat(folder.path, &info) != 0 && folder.path != "/" { folder.deleteLastPathComponent() }
    guard info.st_mode & S_IFMT == S_IFDIR else {
      throw AtomicFileError.unwritableFolder(path: folder.path, reason: "it is not a folder")
    }
    guard access(folder.path, W_OK | X_OK) == 0 else {
      throw AtomicFileError.unwritableFolder(path: folder.path, reason: String(cString: strerror(errno)))
    }
  }

  /// The reason of a Foundation error without its type and domain dump.
  static func plainReason(_ error: any Error) -> String {
    let nsError = error as NSError
    if let posix = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(posix.code)))
    }
    return nsError.localizedDescription
  }
}
