import Foundation

/// A problem with a safetensors file; every case names the file and what is wrong with it.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible {
  case unreadable(path: String, reason: String)
  case truncated(path: String, detail: String)
  case malformedHeader(path: String, detail: String)
  case unsupportedDType(path: String, tensor: String, dtype: String)
  case invalidOffsets(path: String, tensor: String, detail: String)
  case overlappingTensors(path: String, first: String, second: String)

  public var description: String {
    switch self {
    case let .unreadable(p, r): return "\(p): cannot read safetensors file: \(r)"
    case let .truncated(p, d): return "\(p): truncated safetensors file: \(d)"
    case let .malformedHeader(p, d): return "\(p): malformed safetensors header: \(d)"
    case let .unsupportedDType(p, t, d): return "\(p): tensor '\(t)' has unsupported dtype \(d)"
    case let .invalidOffsets(p, t, d): return "\(p): tensor '\(t)' has invalid data offsets: \(d)"
    case let .overlappingTensors(p, a, b): return "\(p): tensors '\(a)' and '\(b)' overlap"
    }
  }
}

/// The contents of a safetensors file: tensors by name and the string-to-string metadata.
public struct SafeTensorsArchive: Sendable {
  /// Tensors by name (converted to `Float`).
  public var tensors: [String: Tensor]
  /// The `__metadata__` map.
  public var metadata: [String: String]
  /// The dtype each tensor had in the file (`"F32"`, `"BF16"`, …).
  public var sourceDTypes: [String: String]

  /// An archive of `tensors` by name with string `metadata`.
  public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
    sourceDTypes = tensors.mapValues { _ in "F32" }
  }
}

/// Reader and writer for the safetensors format (Hugging Face): a little-endian `UInt64`
/// header size, a JSON header mapping each name to `dtype`, `shape` and `data_offsets`
/// (plus an optional `__metadata__` string map), then the raw little-endian data.
///
/// Writing is deterministic: sorted names, `F32` only, header space-padded to 8 bytes, so the
/// same tensors and metadata always give the same bytes. Reading accepts F32, F64, F16, BF16,
/// I64, I32, U8 and BOOL and converts to `Float`.
public enum SafeTensors {
  static let elementSizes: [String: Int] = [
    "F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1,
  ]
  /// Headers larger than this are rejected before parsing (the reference limit is 100 MB).
  static let maximumHeaderSize = 100_000_000

  /// Reads every tensor and the metadata of the file at `url`.
  public static func read(from url: URL) throws -> SafeTensorsArchive {
    let data: Data
    do { data = try FileBytes.read(url) } catch let e as FileReadError {
      throw SafeTensorsError.unreadable(path: url.path, reason: e.reason)
    }
    return try decode(data, path: url.path)
  }

  /// One tensor entry of a parsed header.
  struct Entry {
    var name: String, dtype: String, shape: [Int], begin: Int, end: Int
  }

  /// Decodes safetensors bytes; `path` names the source in errors.
  public static func decode(_ data: Data, path: String = "<memory>") throws -> SafeTensorsArchive {
    let (entries, metadata, dataStart) = try parse(data, path: path)
    var archive = SafeTensorsArchive(tensors: [:], metadata: metadata)
    data.withUnsafeBytes { raw in
      for e in entries {
        let bytes = UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)])
        archive.tensors[e.name] = Tensor(shape: Shape(e.shape), storage: convert(bytes, dtype: e.dtype))
        archive.sourceDTypes[e.name] = e.dtype
      }
    }
    return archive
  }

  /// Reads every tensor as `Double` values (F64 stays exact): for sums that must merge without
  /// float32 rounding, such as partial gradient maps.
  public static func readFloat64(from url: URL) throws -> (arrays: [String: (shape: [Int], values: [Double])], metadata: [String: String]) {
    let data: Data
    do { data = try FileBytes.read(url) } catch let e as FileReadError {
      throw SafeTensorsError.unreadable(path: url.path, reason: e.reason)
    }
    let (entries, metadata, dataStart) = try parse(data, path: url.path)
    var out: [String: (shape: [Int], values: [Double])] = [:]
    data.withUnsafeBytes { raw in
      for e in entries {
        let bytes = UnsafeRawBufferPointer(rebasing: raw[(dataStart + e.begin)..<(dataStart + e.end)])
        let values: [Double]
        if e.dtype == "F64" {
          values = (0..<(bytes.count / 8)).map { Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
        } else {
          let storage = convert(bytes, dtype: e.dtype)
          values = (0..<storage.count).map { Double(storage.base[$0]) }
        }
        out[e.name] = (e.shape, values)
      }
    }
    return (out, metadata)
  }

  /// Writes `Double` arrays as F64 tensors (sorted names, atomically).
  public static func writeFloat64(_ arrays: [String: (shape: [Int], values: [Double])], metadata: [String: String] = [:],
                                  to url: URL) throws {
    let entries = arrays.keys.sorted().map { name -> (String, String, [Int], Data) in
      let (shape, values) = arrays[name]!
      precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
      var bytes = Data(capacity: values.count * 8)
      for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
      return (name, "F64", shape, bytes)
    }
    try AtomicFile.write(assemble(entries, metadata: metadata), to: url)
  }

  /// Validates the header and returns the entries sorted by offset, the metadata and where the
  /// data starts.
  static func parse(_ data: Data, path: String) throws -> ([Entry], [String: String], Int) {
    guard data.count >= 8 else {
      throw SafeTensorsError.truncated(path: path, detail: "\(data.count) bytes, need at least 8 for the header size")
    }
    let headerSize = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    guard headerSize <= UInt64(maximumHeaderSize) else {
      throw SafeTensorsError.malformedHeader(path: path, detail: "header size \(headerSize) exceeds \(maximumHeaderSize) bytes")
    }
    guard UInt64(data.count) >= 8 + headerSize else {
      throw SafeTensorsError.truncated(path: path, detail: "header needs \(headerSize) bytes, file has \(data.count - 8) after the size")
    }
    let headerBytes = data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(headerSize)))
    let json: Any
    do {
      json = try JSONSerialization.jsonObject(with: headerBytes)
    } catch {
      throw SafeTensorsError.malformedHeader(path: path, detail: "not JSON (\((error as NSError).localizedDescription))")
    }
    guard let header = json as? [String: Any] else {
      throw SafeTensorsError.malformedHeader(path: path, detail: "the header is not a JSON object")
    }
    let dataStart = 8 + Int(headerSize)
    let dataLength = data.count - dataStart

    var metadata: [String: String] = [:]
    if let meta = header["__metadata__"] {
      guard let m = meta as? [String: Any] else {
        throw SafeTensorsError.malformedHeader(path: path, detail: "__metadata__ is not an object")
      }
      for (k, v) in m {
        guard let s = v as? String else {
          throw SafeTensorsError.malformedHeader(path: path, detail: "__metadata__ value for '\(k)' is not a string")
        }
        metadata[k] = s
      }
    }

    var entries: [Entry] = []
    for (name, value) in header where name != "__metadata__" {
      guard let info = value as? [String: Any] else {
        throw SafeTensorsError.malformedHeader(path: path, detail: "entry '\(name)' is not an object")
      }
      guard let dtype = info["dtype"] as? String else {
        throw SafeTensorsError.malformedHeader(path: path, detail: "entry '\(name)' has no dtype")
      }
      guard let shapeValues = info["shape"] as? [Any],
            let shape = integers(shapeValues), shape.allSatisfy({ $0 >= 0 }) else {
        throw SafeTensorsError.malformedHeader(path: path, detail: "entry '\(name)' has no valid shape")
      }
      guard let offsetValues = info["data_offsets"] as? [Any], let offsets = integers(offsetValues),
            offsets.count == 2 else {
        throw SafeTensorsError.malformedHeader(path: path, detail: "entry '\(name)' has no valid data_offsets")
      }
      guard let size = elementSizes[dtype] else {
        throw SafeTensorsError.unsupportedDType(path: path, tensor: name, dtype: dtype)
      }
      let (begin, end) = (offsets[0], offsets[1])
      guard begin >= 0, begin <= end else {
        throw SafeTensorsError.invalidOffsets(path: path, tensor: name, detail: "[\(begin), \(end)] is not an ascending range")
      }
      guard end <= dataLength else {
        throw SafeTensorsError.truncated(path: path, detail: "tensor '\(name)' ends at byte \(end) of the data, which has \(dataLength)")
      }
      guard let needed = Shape.checkedCount(shape, bytesPerElement: size) else {
        throw SafeTensorsError.malformedHeader(path: path, detail: "entry '\(name)' has shape \(shape), whose size overflows")
      }
      guard end - begin == needed else {
        throw SafeTensorsError.invalidOffsets(path: path, tensor: name,
                                              detail: "\(end - begin) bytes for shape \(shape) of \(dtype) (need \(needed))")
      }
      entries.append(Entry(name: name, dtype: dtype, shape: shape, begin: begin, end: end))
    }
    entries.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
    for i in entries.indices.dropFirst() where entries[i].begin < entries[i - 1].end {
      throw SafeTensorsError.overlappingTensors(path: path, first: entries[i - 1].name, second: entries[i].name)
    }

    return (entries, metadata, dataStart)
  }

  private static func integers(_ values: [Any]) -> [Int]? {
    var out: [Int] = []
    for v in values {
      guard let n = v as? NSNumber, n.doubleValue == n.doubleValue.rounded() else { return nil }
      out.append(n.intValue)
    }
    return out
  }

  private static func convert(_ bytes: UnsafeRawBufferPointer, dtype: String) -> TensorStorage {
    let size = elementSizes[dtype]!
    let count = bytes.count / size
    let out = TensorStorage(uninitializedCount: count)
    for i in 0..<count {
      let o = i * size
      let value: Float
      switch dtype {
      case "F32": value = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
      case "F64": value = Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self))))
      case "F16": value = Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self))))
      case "BF16": value = Float(bitPattern: UInt32(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt16.self))) << 16)
      case "I64": value = Float(Int64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: Int64.self)))
      case "I32": value = Float(Int32(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: Int32.self)))
      default: value = Float(bytes[o])  // U8, BOOL
      }
      out.base[i] = value
    }
    return out
  }

  /// Encodes `tensors` as F32 safetensors bytes with sorted names (byte-reproducible).
  public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) -> Data {
    let entries = tensors.keys.sorted().map { name -> (String, String, [Int], Data) in
      let t = tensors[name]!
      // NOTE: one bulk copy per tensor (appending element by element made saving a 100 MB model
      // take seconds); the format is little-endian, so big-endian hosts swap each element.
      var bytes = Data(count: t.elementCount * 4)
      bytes.withUnsafeMutableBytes { out in
        t.withUnsafeBufferPointer { buffer in
          if UInt32(1).littleEndian == 1 {
            if let base = buffer.baseAddress, let target = out.baseAddress { target.copyMemory(from: base, byteCount: buffer.count * 4) }
          } else {
            for (i, v) in buffer.enumerated() { out.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: 4 * i, as: UInt32.self) }
          }
        }
      }
      return (name, "F32", t.shape.dims, bytes)
    }
    return assemble(entries, metadata: metadata)
  }

  /// Header (metadata first, then entries in the given order, space-padded to 8 bytes) and data.
  static func assemble(_ entries: [(name: String, dtype: String, shape: [Int], bytes: Data)],
                       metadata: [String: String]) -> Data {
    var parts: [String] = []
    if !metadata.isEmpty {
      let fields = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
      parts.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
    }
    var offset = 0
    for e in entries {
      parts.append("\(jsonString(e.name)):{\"dtype\":\"\(e.dtype)\",\"shape\":[\(e.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + e.bytes.count)]}")
      offset += e.bytes.count
    }
    var header = Array("{\(parts.joined(separator: ","))}".utf8)
    while header.count % 8 != 0 { header.append(0x20) }
    var data = Data(capacity: 8 + header.count + offset)
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: header)
    for e in entries { data.append(e.bytes) }
    return data
  }

  /// Writes `tensors` and `metadata` to `url` atomically (a temporary file in the same folder,
  /// then a rename), so a crash never leaves a half-written file behind.
  public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
    try AtomicFile.write(encode(tensors, metadata: metadata), to: url)
  }

  /// A JSON string literal for `s`.
  static func jsonString(_ s: String) -> String {
    var out = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
      }
    }
    return out + "\""
  }
}
