/// Why an ONNX model file cannot be imported: each case names the file and, where there is one,
/// the node or tensor at fault.
public enum ONNXError: Error, Equatable, CustomStringConvertible {
  /// The file cannot be read or is not an ONNX protobuf (truncated, garbage, too large).
  case unreadable(file: String, reason: String)
  /// The graph is malformed: a cycle, a value used before it is defined, a shape that does not fit.
  case malformed(file: String, node: String, reason: String)
  /// A node uses an operator (or an attribute value) the importer does not translate.
  case unsupported(file: String, node: String, opType: String, reason: String)
  /// An initializer's data is missing, of the wrong size, or stored outside the model's folder.
  case tensorData(file: String, tensor: String, reason: String)

  public var description: String {
    switch self {
    case let .unreadable(f, r): return "\(f): not a readable ONNX model: \(r)"
    case let .malformed(f, n, r): return "\(f): node \(n): \(r)"
    case let .unsupported(f, n, op, r): return "\(f): node \(n) (\(op)): \(r)"
    case let .tensorData(f, t, r): return "\(f): tensor '\(t)': \(r)"
    }
  }
}
