import Foundation

/// Reads tensor bytes that an ONNX model keeps in a separate file (`location`, `offset`,
/// `length`), from files inside the model's own folder only.
///
/// A model file is untrusted input, and external-data locations are the path by which the onnx
/// library's own advisories (CVE-2022-25882, CVE-2024-27318, CVE-2026-27489) read arbitrary
/// files: absolute paths, `..`, and symbolic or hard links leading out of the folder. Every
/// location is therefore relative and free of `..`, resolves (through `realpath`) inside the
/// folder, names a regular file that is not itself a symbolic link (`O_NOFOLLOW`) and has no
/// second hard link; the byte range is checked against the file's size before anything is
/// allocated.
struct ExternalData {
  let modelFile: String
  /// The model's folder, resolved.
  let folder: String

  init(modelFile: URL) throws {
    self.modelFile = modelFile.path
    let parent = modelFile.deletingLastPathComponent().path
    guard let resolved = realpath(parent, nil) else {
      throw ONNXError.unreadable(file: modelFile.path, reason: "cannot resolve its folder \(parent)")
    }
    defer { free(resolved) }
    folder = String(cString: resolved)
  }

  /// The bytes `offset..<offset + length` of `location` (to its end when `length` is nil).
  func read(tensor: String, location: String, offset: Int, length: Int?) throws -> Data {
    func refuse(_ reason: String) -> ONNXError { .tensorData(file: modelFile, tensor: tensor, reason: reason) }
    let components = location.split(separator: "/", omittingEmptySubsequences: false)
    guard !location.isEmpty, !location.hasPrefix("/"), !location.contains("\\"), !location.contains("\0"),
          !components.contains(".."), !components.contains("") else {
      throw refuse("external data location '\(location)' must be a plain relative path inside the model's folder "
                   + "(no absolute path, '..', backslash or empty component)")
    }
    let candidate = folder + "/" + location
    guard let resolvedPointer = realpath(candidate, nil) else {
      throw refuse("external data file '\(location)' cannot be opened: \(String(cString: strerror(errno)))")
    }
    let resolved = String(cString: resolvedPointer)
    free(resolvedPointer)
    guard resolved.hasPrefix(folder + "/") else {
      throw refuse("external data location '\(location)' leads out of the model's folder (to \(resolved))")
    }
    let fd = open(candidate, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else {
      let reason = errno == ELOOP ? "is a symbolic link" : String(cString: strerror(errno))
      throw refuse("external data file '\(location)' cannot be opened: \(reason)")
    }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
      throw refuse("external data file '\(location)' is not a regular file")
    }
    guard info.st_nlink == 1 else {
      throw refuse("external data file '\(location)' has \(info.st_nlink) hard links (it may be a file from outside the model's folder)")
    }
    let size = Int(info.st_size)
    guard offset >= 0, offset <= size else { throw refuse("offset \(offset) is past the end of '\(location)' (\(size) bytes)") }
    let count = length ?? (size - offset)
    guard count >= 0, count <= size - offset else {
      throw refuse("offset \(offset) + length \(count) is past the end of '\(location)' (\(size) bytes)")
    }
    var data = Data(count: count)
    var filled = 0
    let failure: Int32? = data.withUnsafeMutableBytes { buffer in
      while filled < count {
        let n = pread(fd, buffer.baseAddress! + filled, count - filled, off_t(offset + filled))
        if n < 0 {
          if errno == EINTR { continue }
          return errno
        }
        if n == 0 { return EIO }
        filled += n
      }
      return nil
    }
    if let failure { throw refuse("reading '\(location)' failed: \(String(cString: strerror(failure)))") }
    return data
  }
}
