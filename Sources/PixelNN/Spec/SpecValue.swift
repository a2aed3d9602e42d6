/// A JSON value held by a ``LayerSpec`` for a field that only the builder of its layer kind
/// reads (e.g. a defense's `pattern` or `branches`), so that a module can add layer kinds with
/// fields of their own without PixelNN knowing them.
///
/// Numbers are kept as `Double` and written as integers when they are integral (below 2⁵³), so
/// a field reads back the same whether it was written as `1` or `1.0`.
public enum SpecValue: Codable, Equatable, Sendable {
  case bool(Bool)
  case number(Double)
  case string(String)
  case array([SpecValue])
  case object([String: SpecValue])

  public init(from decoder: any Decoder) throws {
    let c = try decoder.singleValueContainer()
    if let b = try? c.decode(Bool.self) { self = .bool(b) }
    else if let i = try? c.decode(Int64.self) { self = .number(Double(i)) }
    else if let d = try? c.decode(Double.self) { self = .number(d) }
    else if let s = try? c.decode(String.self) { self = .string(s) }
    else if let a = try? c.decode([SpecValue].self) { self = .array(a) }
    else { self = .object(try c.decode([String: SpecValue].self)) }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .bool(let b): try c.encode(b)
    case .number(let d):
      if d == d.rounded(), Swift.abs(d) < 9_007_199_254_740_992 { try c.encode(Int64(d)) } else { try c.encode(d) }
    case .string(let s): try c.encode(s)
    case .array(let a): try c.encode(a)
    case .object(let o): try c.encode(o)
    }
  }
}
