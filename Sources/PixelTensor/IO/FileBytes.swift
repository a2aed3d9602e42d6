import Foundation

/// A file that could not be read, in plain words.
public struct FileReadError: Error, Equatable, CustomStringConvertible {
  /// The file.
  public var path: String
  /// Why, e.g. "No such file or directory" or "is a folder, not a regular file".
  public var reason: String

  public var description: String { "\(path): cannot read: \(reason)" }
}

/// Whole-file reads of untrusted input through POSIX calls: only regular files (a FIFO or
/// `/dev/zero` would never end), sized before anything is allocated.
public enum FileBytes {
  /// The bytes of the regular file at `url`.
  /// - Throws: ``FileReadError``; parsers map it to their own error naming the file.
  public static func read(_ url: URL) throws -> Data {
    let fd = open(url.path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileReadError(path: url.path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw FileReadError(path: url.path, reason: String(cString: strerror(errno))) }
    guard info.st_mode & S_IFMT == S_IFREG else {
      throw FileReadError(path: url.path, reason: info.st_mode & S_IFMT == S_IFDIR ? "is a folder, not a regular file"
                                                                                 : "is not a regular file")
    }
    var data = Data(count: Int(info.st_size))
    var filled = 0
    let failure: Int32? = data.withUnsafeMutableBytes { buffer in
      while filled < buffer.count {
        let n = Foundation.read(fd, buffer.baseAddress! + filled, buffer.count - filled)
        if n < 0 {
          if errno == EINTR { continue }
          return errno
        }
        if n == 0 { break }
        filled += n
      }
      return nil
    }
    if let failure { throw FileReadError(path: url.path, reason: String(cString: strerror(failure))) }
    return filled == data.count ? data : data.prefix(filled)
  }
}
