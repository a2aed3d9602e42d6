import Foundation

/// 64-bit FNV-1a, a fast non-cryptographic digest for telling files and models apart.
public struct FNV1a: Sendable {
  /// The digest so far.
  public private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

  /// An empty digest.
  public init() {}

  /// Mixes `bytes` in.
  public mutating func mix<C: Collection>(_ bytes: C) where C.Element == UInt8 {
    for b in bytes { value = (value ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
  }

  /// The digest as 16 hex digits.
  public var hex: String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}

/// `manifest.json`: the files a command wrote into a folder, with their sizes and digests, and
/// what they are results of. It is written last, so a folder whose manifest is present and
/// verifies holds one complete, consistent set of files (a run killed halfway leaves none).
public struct FolderManifest: Codable, Equatable, Sendable {
  /// One file of the set.
  public struct Entry: Codable, Equatable, Sendable {
    /// JSON `name`: relative to the folder.
    public var name: String
    /// JSON `bytes`, `fnv1a64`: size and 64-bit FNV-1a digest (16 hex digits).
    public var bytes: Int
    public var fnv1a64: String
  }

  /// JSON `format`: `pixelrobust-manifest/1`.
  public var format: String
  /// JSON `identity`: what the files are results of (model digest, data set, settings).
  public var identity: [String: String]
  /// JSON `files`: in the order written.
  public var files: [Entry]

  /// The file name inside the folder.
  public static let fileName = "manifest.json"

  /// Records `files` (names inside `folder`, already written) and `identity`, atomically.
  @discardableResult
  public static func write(folder: URL, files: [String], identity: [String: String]) throws -> FolderManifest {
    let entries = try files.map { name -> Entry in
      let data = try FileBytes.read(folder.appendingPathComponent(name))
      var digest = FNV1a()
      digest.mix(data)
      return Entry(name: name, bytes: data.count, fnv1a64: digest.hex)
    }
    let manifest = FolderManifest(format: "pixelrobust-manifest/1", identity: identity, files: entries)
    try AtomicFile.writeJSON(manifest, to: folder.appendingPathComponent(fileName))
    return manifest
  }

  /// The manifest of `folder` after checking every file it names against its size and digest.
  /// - Throws: ``FolderManifestError`` naming the folder and the file that does not match.
  public static func verify(folder: URL) throws -> FolderManifest {
    let url = folder.appendingPathComponent(fileName)
    guard let data = try? FileBytes.read(url) else { throw FolderManifestError.missing(folder: folder.path) }
    guard let manifest = try? JSONDecoder().decode(FolderManifest.self, from: data),
          manifest.format == "pixelrobust-manifest/1" else {
      throw FolderManifestError.mismatch(folder: folder.path, detail: "\(fileName) is not a pixelrobust manifest")
    }
    for entry in manifest.files {
      guard let bytes = try? FileBytes.read(folder.appendingPathComponent(entry.name)) else {
        throw FolderManifestError.mismatch(folder: folder.path, detail: "\(entry.name) is missing")
      }
      var digest = FNV1a()
      digest.mix(bytes)
      guard bytes.count == entry.bytes, digest.hex == entry.fnv1a64 else {
        throw FolderManifestError.mismatch(folder: folder.path, detail: "\(entry.name) changed since the manifest was written")
      }
    }
    return manifest
  }
}

/// A folder whose files are not the complete set its manifest names.
public enum FolderManifestError: Error, Equatable, CustomStringConvertible {
  case missing(folder: String)
  case mismatch(folder: String, detail: String)

  public var description: String {
    switch self {
    case let .missing(f): return "\(f): no \(FolderManifest.fileName) (an unfinished or foreign folder)"
    case let .mismatch(f, d): return "\(f): \(d)"
    }
  }
}

extension Tensor {
  /// FNV-1a of the tensor's scalars as bytes, as 16 hex digits: what a job records to tell masks
  /// and maps apart.
  public var fnv1a64: String {
    var digest = FNV1a()
    withUnsafeBufferPointer { digest.mix(UnsafeRawBufferPointer($0)) }
    return digest.hex
  }
}
