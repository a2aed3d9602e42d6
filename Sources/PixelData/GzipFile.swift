import CZlib
import Foundation
import PixelTensor

/// Whole-file reads and writes through zlib's gz API, which also reads uncompressed files.
enum GzipFile {
  /// A stream over a raw or gzipped file that hands out exactly the bytes asked for, so a
  /// parser checks a header before anything the header announces is inflated or allocated.
  final class Reader {
    let url: URL
    private let gz: gzFile

    init(_ url: URL) throws {
      guard FileManager.default.fileExists(atPath: url.path) else { throw DataError.missing(path: url.path, what: "file") }
      guard let gz = gzopen(url.path, "rb") else {
        throw DataError.unreadable(path: url.path, reason: String(cString: strerror(errno)))
      }
      self.url = url
      self.gz = gz
    }

    deinit { gzclose(gz) }

    /// Up to `limit` bytes, fewer only at the end of the stream. Memory grows with what the
    /// file holds, not with `limit`.
    func read(upTo limit: Int) throws -> [UInt8] {
      var out: [UInt8] = []
      var chunk = [UInt8](repeating: 0, count: Swift.min(1 << 20, Swift.max(limit, 1)))
      while out.count < limit {
        let want = Swift.min(chunk.count, limit - out.count)
        let n = chunk.withUnsafeMutableBytes { gzread(gz, $0.baseAddress, UInt32(want)) }
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
  }

  static func write(_ bytes: [UInt8], to url: URL, compressed: Bool) throws {
    try AtomicFile.checkWritable(url)
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
