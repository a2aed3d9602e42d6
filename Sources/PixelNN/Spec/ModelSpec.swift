import Foundation
import PixelTensor

/// A model description in the `pixelrobust-model/1` format: the input shape, the class count and
/// the layers, enough to rebuild the network and to import PyTorch weights by name.
///
/// ```json
/// {"format":"pixelrobust-model/1","input":[1,28,28],"classes":10,"layers":[
///   {"type":"conv2d","name":"conv1","out":32,"kernel":3},{"type":"relu"},
///   {"type":"maxpool2d","kernel":2},{"type":"flatten"},{"type":"linear","name":"fc1","out":10}]}
/// ```
public struct ModelSpec: Codable, Equatable, Sendable {
  /// Always `"pixelrobust-model/1"`.
  public var format: String
  /// `[C, H, W]` of one image (or `[F]` for flat features).
  public var input: [Int]
  /// The number of classes (logits).
  public var classes: Int
  /// The layers in order.
  public var layers: [LayerSpec]

  /// The format this version reads and writes.
  public static let currentFormat = "pixelrobust-model/1"

  /// A spec in the current format.
  public init(input: [Int], classes: Int, layers: [LayerSpec]) {
    format = Self.currentFormat
    self.input = input
    self.classes = classes
    self.layers = layers
  }

  /// Parses spec JSON; `source` names the file in errors.
  public static func decode(_ data: Data, source: String) throws -> ModelSpec {
    let spec: ModelSpec
    do {
      spec = try JSONDecoder().decode(ModelSpec.self, from: data)
    } catch let error as DecodingError {
      throw ModelSpecError.invalid(source: source, reason: describe(error))
    }
    guard spec.format == currentFormat else {
      throw ModelSpecError.invalid(source: source, reason: "format is '\(spec.format)', expected '\(currentFormat)'")
    }
    return spec
  }

  /// Reads a spec file.
  public static func read(from url: URL) throws -> ModelSpec {
    let data: Data
    do { data = try FileBytes.read(url) } catch let e as FileReadError {
      throw ModelSpecError.invalid(source: url.path, reason: "cannot read the file (\(e.reason))")
    }
    return try decode(data, source: url.path)
  }

  /// Compact JSON with sorted keys (stable bytes for checkpoints).
  public func jsonString() -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try! encoder.encode(self), as: UTF8.self)
  }

  private static func describe(_ error: DecodingError) -> String {
    func path(_ c: DecodingError.Context) -> String {
      c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
    switch error {
    case .keyNotFound(let key, let c): return "missing key '\(key.stringValue)' at \(path(c).isEmpty ? "top level" : path(c))"
    case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(c.debugDescription) at \(path(c))"
    case .dataCorrupted(let c): return "\(c.debugDescription)\(path(c).isEmpty ? "" : " at \(path(c))")"
    @unknown default: return "\(error)"
    }
  }
}

/// One layer of a ``ModelSpec``: its `type`, the fields that PixelNN's own layer kinds read, and
/// ``options``, every other field of the JSON object, read by the builder of the layer's kind
/// (``LayerBuilder``). PixelNN's kinds and their fields: `conv2d` (name, out, kernel, stride,
/// padding, dilation, groups, bias), `conv_transpose2d` (name, out, kernel, stride, padding,
/// output_padding, bias), `linear` (name, out, bias), `relu`, `leaky_relu` (slope), `softplus`,
/// `tanh`, `sigmoid`, `maxpool2d` / `avgpool2d` (kernel, stride = kernel, padding; max pooling's
/// option `tie_tolerance`, see `MaxPoolTies`),
/// `global_avgpool`, `flatten`, `batchnorm2d` / `batchnorm1d` (name, eps, momentum), `dropout`
/// (p), `normalize` (mean, std), `clip` (min, max; absent is unbounded), `reshape`
/// (shape: per-example, one extent may be -1), `residual` (name, body,
/// shortcut; an empty shortcut is the identity) and `graph` (name, constants, nodes, output: a
/// DAG of named values, see ``GraphNodeSpec``). Other modules add kinds (PixelDefenses: `prm`, `switch`, `random_resize_pad`).
public struct LayerSpec: Codable, Equatable, Sendable {
  /// The layer kind, e.g. `"conv2d"`; a ``ModelBuilder`` maps it to a ``LayerBuilder``.
  public var type: String
  /// The layer's name: the first component of its parameters' paths (`conv1.weight`).
  public var name: String?
  /// Output channels (`conv2d`, `conv_transpose2d`) or features (`linear`).
  public var out: Int?
  /// Square kernel size (convolutions and pooling).
  public var kernel: Int?
  public var stride: Int?
  public var padding: Int?
  public var dilation: Int?
  public var groups: Int?
  /// `conv_transpose2d`: extra rows and columns on the far side, in `0..<stride`.
  public var outputPadding: Int?
  /// Whether a convolution or linear layer has a bias (default true).
  public var bias: Bool?
  /// `leaky_relu`: the negative slope.
  public var slope: Float?
  /// Batch norm: ε added to the variance, and the running-statistics momentum (PyTorch's rule).
  public var eps: Float?
  public var momentum: Float?
  /// `dropout`: the drop probability.
  public var p: Float?
  /// `normalize`: per-channel mean and standard deviation.
  public var mean: [Float]?
  public var std: [Float]?
  /// `residual`: the body and the shortcut (empty: identity).
  public var body: [LayerSpec]?
  public var shortcut: [LayerSpec]?
  /// Seed for a randomized layer's draws.
  public var seed: UInt64?
  /// Every other field, by its JSON key, for the builder of this layer's kind.
  public var options: [String: SpecValue] = [:]

  enum CodingKeys: String, CodingKey, CaseIterable {
    case type, name, out, kernel, stride, padding, dilation, groups, bias, slope, eps, momentum, p, mean, std, body, shortcut
    case seed
    case outputPadding = "output_padding"
  }

  /// A layer of kind `type` with the typed fields given (options are set with ``setOption(_:_:)``).
  public init(type: String, name: String? = nil, out: Int? = nil, kernel: Int? = nil, stride: Int? = nil,
              padding: Int? = nil, dilation: Int? = nil, groups: Int? = nil, outputPadding: Int? = nil,
              bias: Bool? = nil, slope: Float? = nil, eps: Float? = nil, momentum: Float? = nil, p: Float? = nil,
              mean: [Float]? = nil, std: [Float]? = nil, body: [LayerSpec]? = nil, shortcut: [LayerSpec]? = nil) {
    self.type = type; self.name = name; self.out = out; self.kernel = kernel; self.stride = stride
    self.padding = padding; self.dilation = dilation; self.groups = groups; self.outputPadding = outputPadding
    self.bias = bias; self.slope = slope; self.eps = eps; self.momentum = momentum; self.p = p
    self.mean = mean; self.std = std; self.body = body; self.shortcut = shortcut
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    type = try c.decode(String.self, forKey: .type)
    name = try c.decodeIfPresent(String.self, forKey: .name)
    out = try c.decodeIfPresent(Int.self, forKey: .out)
    kernel = try c.decodeIfPresent(Int.self, forKey: .kernel)
    stride = try c.decodeIfPresent(Int.self, forKey: .stride)
    padding = try c.decodeIfPresent(Int.self, forKey: .padding)
    dilation = try c.decodeIfPresent(Int.self, forKey: .dilation)
    groups = try c.decodeIfPresent(Int.self, forKey: .groups)
    outputPadding = try c.decodeIfPresent(Int.self, forKey: .outputPadding)
    bias = try c.decodeIfPresent(Bool.self, forKey: .bias)
    slope = try c.decodeIfPresent(Float.self, forKey: .slope)
    eps = try c.decodeIfPresent(Float.self, forKey: .eps)
    momentum = try c.decodeIfPresent(Float.self, forKey: .momentum)
    p = try c.decodeIfPresent(Float.self, forKey: .p)
    mean = try c.decodeIfPresent([Float].self, forKey: .mean)
    std = try c.decodeIfPresent([Float].self, forKey: .std)
    body = try c.decodeIfPresent([LayerSpec].self, forKey: .body)
    shortcut = try c.decodeIfPresent([LayerSpec].self, forKey: .shortcut)
    seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
    let all = try decoder.container(keyedBy: FieldKey.self)
    for key in all.allKeys where CodingKeys(stringValue: key.stringValue) == nil {
      // NOTE: null means absent, as for the typed fields.
      if try all.decodeNil(forKey: key) { continue }
      options[key.stringValue] = try all.decode(SpecValue.self, forKey: key)
    }
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: FieldKey.self)
    func put<T: Encodable>(_ v: T?, _ key: CodingKeys) throws { try c.encodeIfPresent(v, forKey: FieldKey(key.rawValue)) }
    try put(type, .type); try put(name, .name); try put(out, .out); try put(kernel, .kernel); try put(stride, .stride)
    try put(padding, .padding); try put(dilation, .dilation); try put(groups, .groups); try put(outputPadding, .outputPadding)
    try put(bias, .bias); try put(slope, .slope); try put(eps, .eps); try put(momentum, .momentum); try put(p, .p)
    try put(mean, .mean); try put(std, .std); try put(body, .body); try put(shortcut, .shortcut); try put(seed, .seed)
    for (k, v) in options { try c.encode(v, forKey: FieldKey(k)) }
  }

  /// The value of option `key` decoded as `T`, or `nil` when absent.
  /// - Throws: `DecodingError` when the value is not a `T`.
  public func option<T: Decodable>(_ key: String, as type: T.Type = T.self) throws -> T? {
    guard let value = options[key] else { return nil }
    let data = try JSONEncoder().encode([value])
    return try JSONDecoder().decode([T].self, from: data).first
  }

  /// Sets option `key` to `value` (JSON-normalised, as if read from a file), or removes it for `nil`.
  /// - Throws: `EncodingError` for a value JSON cannot hold (a NaN or infinite number).
  /// - Precondition: `key` is not one of the typed fields.
  public mutating func setOption<T: Encodable>(_ key: String, _ value: T?) throws {
    precondition(CodingKeys(stringValue: key) == nil, "'\(key)' is a typed field of LayerSpec")
    guard let value else { options[key] = nil; return }
    // Going through JSON makes the stored value equal to what a file holding it decodes to.
    options[key] = try JSONDecoder().decode([SpecValue].self, from: JSONEncoder().encode([value]))[0]
  }
}

/// A JSON object key of any name.
struct FieldKey: CodingKey {
  let stringValue: String
  var intValue: Int? { nil }
  init(_ string: String) { stringValue = string }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}

/// A model spec that cannot be used; names its source and the problem.
public enum ModelSpecError: Error, Equatable, CustomStringConvertible {
  case invalid(source: String, reason: String)

  public var description: String {
    switch self {
    case let .invalid(s, r): return "\(s): invalid model spec: \(r)"
    }
  }
}
