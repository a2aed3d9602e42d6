import Foundation

/// A `.npy` file that cannot be read; names the file and the problem.
public enum NumPyError: Error, Equatable, CustomStringConvertible {
  case malformed(path: String, detail: String)
  case unsupported(path: String, detail: String)

  public var description: String {
    switch self {
    case let .malformed(p, d): return "\(p): malformed .npy file: \(d)"
    case let .unsupported(p, d): return "\(p): unsupported .npy file: \(d)"
    }
  }
}

/// NumPy's `.npy` format (version 1.0): magic `\x93NUMPY`, a header dict
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (…), }` padded to 64 bytes, then the data.
public enum NumPy {
  /// Encodes `tensor` as little-endian float32 `.npy` bytes.
  public static func encode(_ tensor: Tensor) -> Data {
    let dims = tensor.shape.dims
    let shape = dims.isEmpty ? "()" : dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(contentsOf: Array(header.utf8))
    tensor.withUnsafeBufferPointer { buffer in
      for v in buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    }
    return data
  }

  /// Writes `tensor` as float32 `.npy`, atomically.
  public static func write(_ tensor: Tensor, to url: URL) throws {
    try AtomicFile.write(encode(tensor), to: url)
  }

  /// Reads a C-order `.npy` of float32, float64, int64, int32 or uint8 into a tensor.
  public static func read(from url: URL) throws -> Tensor {
    let data: Data
    do { data = try FileBytes.read(url) } catch let e as FileReadError {
      throw NumPyError.malformed(path: url.path, detail: "cannot read (\(e.reason))")
    }
    let bytes = [UInt8](data)
    guard bytes.count >= 10, bytes[0] == 0x93, Array(bytes[1..<6]) == Array("NUMPY".utf8) else {
      throw NumPyError.malformed(path: url.path, detail: "no NUMPY magic")
    }
    let major = bytes[6]
    let headerLength: Int, headerStart: Int
    if major == 1 {
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      headerStart = 10
    } else {
      guard bytes.count >= 12 else { throw NumPyError.malformed(path: url.path, detail: "truncated header") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      headerStart = 12
    }
    guard bytes.count >= headerStart + headerLength else { throw NumPyError.malformed(path: url.path, detail: "truncated header") }
    let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
    guard let descr = field(header, "descr"), let shapeText = field(header, "shape") else {
      throw NumPyError.malformed(path: url.path, detail: "header lacks descr or shape: \(header)")
    }
    if field(header, "fortran_order") == "True" {
      throw NumPyError.unsupported(path: url.path, detail: "Fortran order")
    }
    let items = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() ")).split(separator: ",")
      .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    let dims = items.compactMap { Int($0) }
    guard dims.count == items.count, dims.allSatisfy({ $0 >= 0 }) else {
      throw NumPyError.malformed(path: url.path, detail: "shape \(shapeText) is not a tuple of non-negative integers")
    }
    let sizes = ["<f4": 4, "<f8": 8, "<i8": 8, "<i4": 4, "|u1": 1, "<u1": 1]
    guard let size = sizes[descr] else { throw NumPyError.unsupported(path: url.path, detail: "dtype \(descr)") }
    let start = headerStart + headerLength
    guard let needed = Shape.checkedCount(dims, bytesPerElement: size), bytes.count - start == needed else {
      throw NumPyError.malformed(path: url.path, detail: "shape \(dims) of \(descr) does not fit the \(bytes.count - start) data bytes")
    }
    let count = needed / size
    var values = [Float](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      for i in 0..<count {
        let o = start + i * size
        switch descr {
        case "<f4": values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt32.self)))
        case "<f8": values[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: UInt64.self))))
        case "<i8": values[i] = Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int64.self)))
        case "<i4": values[i] = Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: o, as: Int32.self)))
        default: values[i] = Float(raw[o])
        }
      }
    }
    return Tensor(values, shape: Shape(dims))
  }

  /// The text of `'key': value` in a header dict (value up to the next top-level comma).
  static func field(_ header: String, _ key: String) -> String? {
    guard let r = header.range(of: "'\(key)':") else { return nil }
    var depth = 0
    var out = ""
    for ch in header[r.upperBound...] {
      if ch == "(" { depth += 1 }
      if ch == ")" { depth -= 1 }
      if (ch == "," && depth == 0) || ch == "}" { break }
      out.append(ch)
    }
    return out.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
  }
}
