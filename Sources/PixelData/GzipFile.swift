import CZlib
import Foundation
import PixelTensor

/// Whole-file reads and writes through zlib's gz API, which also reads uncompressed files.
enum GzipFile {
  static func read(_ url: URL) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: url.path) else { throw DataError.missing(path: url.path, what: "file") }
    guard let gz = gzopen(url.path, "rb") else {
      throw DataError.unreadable(path: url.path, reason: String(cString: strerror(errno)))
    }
    defer { gzclose(gz) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 20)
    while true {
      let n = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32($0.count)) }
      if n < 0 {
        var code: Int32 = 0
        let message = String(cString: gzerror(gz, &code))
        throw DataError.truncated(path: url.path, detail: "gzip stream error: \(message)")
      }
      if n == 0 { break }
      out.append(contentsOf: chunk[0..<Int(n)])
    }
    return out
  }

  static func write(_ bytes: [UInt8], to url: URL, compressed: Bool) throws {
    if !compressed {
      try AtomicFile.write(Data(bytes), to: url)
      return
    }
    let tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())")
    guard let gz = gzopen(tmp.path, "wb") else { throw DataError.unreadable(path: tmp.path, reason: "cannot create") }
    let written = bytes.withUnsafeBytes { gzwrite(gz, $0.baseAddress, UInt32($0.count)) }
    gzclose(gz)
    guard Int(written) == bytes.count, rename(tmp.path, url.path) == 0 else {
      try? FileManager.default.removeItem(at: tmp)
      throw DataError.unreadable(path: url.path, reason: "write failed")
    }
  }
}
