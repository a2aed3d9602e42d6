import Foundation

/// Typed access to one ONNX node's attributes, with the node named in every error.
struct NodeAttributes {
  let node: Onnx_NodeProto
  let label: String
  let file: String
  private let byName: [String: Onnx_AttributeProto]

  init(_ node: Onnx_NodeProto, label: String, file: String) {
    self.node = node
    self.label = label
    self.file = file
    byName = Dictionary(node.attribute.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
  }

  func unsupported(_ reason: String) -> ONNXError {
    .unsupported(file: file, node: label, opType: node.opType, reason: reason)
  }

  func malformed(_ reason: String) -> ONNXError { .malformed(file: file, node: label, reason: reason) }

  func has(_ name: String) -> Bool { byName[name] != nil }

  /// An integer attribute, or `default` when absent; bounded to keep later arithmetic safe.
  func int(_ name: String, default value: Int) throws -> Int {
    guard let a = byName[name] else { return value }
    guard a.type == .int || a.hasI, Swift.abs(a.i) <= 1 << 30 else { throw malformed("attribute \(name) must be an integer in ±2^30") }
    return Int(a.i)
  }

  func ints(_ name: String) throws -> [Int]? {
    guard let a = byName[name] else { return nil }
    guard a.type == .ints || a.type == .undefined, a.ints.allSatisfy({ Swift.abs($0) <= 1 << 30 }), a.ints.count <= 64 else {
      throw malformed("attribute \(name) must be a list of at most 64 integers in ±2^30")
    }
    return a.ints.map { Int($0) }
  }

  func float(_ name: String, default value: Float) throws -> Float {
    guard let a = byName[name] else { return value }
    guard a.type == .float || a.hasF, a.f.isFinite else { throw malformed("attribute \(name) must be a finite number") }
    return a.f
  }

  func string(_ name: String, default value: String) throws -> String {
    guard let a = byName[name] else { return value }
    guard let s = String(data: a.s, encoding: .utf8) else { throw malformed("attribute \(name) is not UTF-8 text") }
    return s
  }

  func tensor(_ name: String) -> Onnx_TensorProto? { byName[name].flatMap { $0.hasT ? $0.t : nil } }

  /// Attribute names that are present but not in `known`: refused, so that nothing the file asks
  /// for is silently ignored.
  func requireOnly(_ known: Set<String>) throws {
    if let stray = node.attribute.map(\.name).sorted().first(where: { !known.contains($0) }) {
      throw unsupported("attribute '\(stray)' is not supported (known: \(known.sorted().joined(separator: ", ")))")
    }
  }
}
