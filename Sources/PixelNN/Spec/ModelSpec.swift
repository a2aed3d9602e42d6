import Foundation

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

  public static let currentFormat = "pixelrobust-model/1"

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
    do { data = try Data(contentsOf: url) } catch {
      throw ModelSpecError.invalid(source: url.path, reason: "cannot read the file (\((error as NSError).localizedDescription))")
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

/// One layer of a ``ModelSpec``. Which fields apply depends on `type`:
/// `conv2d` (name, out, kernel, stride, padding, dilation, groups, bias), `conv_transpose2d`
/// (name, out, kernel, stride, padding, output_padding, bias), `linear` (name, out, bias),
/// `relu`, `leaky_relu` (slope), `softplus`, `tanh`, `sigmoid`, `maxpool2d` / `avgpool2d`
/// (kernel, stride = kernel, padding), `global_avgpool`, `flatten`, `batchnorm2d` /
/// `batchnorm1d` (name, eps, momentum), `dropout` (p), `normalize` (mean, std), `residual`
/// (name, body, shortcut; an empty shortcut is the identity), `prm` (name, pattern + shift or
/// mask, width, depth, mix), `switch` (name, branches, chain, seed) and `random_resize_pad`
/// (min_size, seed).
public struct LayerSpec: Codable, Equatable, Sendable {
  public var type: String
  public var name: String?
  public var out: Int?
  public var kernel: Int?
  public var stride: Int?
  public var padding: Int?
  public var dilation: Int?
  public var groups: Int?
  public var outputPadding: Int?
  public var bias: Bool?
  public var slope: Float?
  public var eps: Float?
  public var momentum: Float?
  public var p: Float?
  public var mean: [Float]?
  public var std: [Float]?
  public var body: [LayerSpec]?
  public var shortcut: [LayerSpec]?
  /// `prm`: the pattern (`v0`…`v5`) and its shift `[dy, dx]`, or an explicit mask as a string
  /// of `0`/`1` per pixel (row-major); the encoder width and depth; α.
  public var pattern: String?
  public var shift: [Int]?
  public var mask: String?
  public var width: Int?
  public var depth: Int?
  public var mix: Float?
  /// `switch`: the branches (each a PRM followed by a classifier) and the chain length.
  public var branches: [[LayerSpec]]?
  public var chain: Int?
  /// `random_resize_pad`: the smallest size drawn.
  public var minSize: Int?
  /// Seed for a randomized layer's draws.
  public var seed: UInt64?

  enum CodingKeys: String, CodingKey {
    case type, name, out, kernel, stride, padding, dilation, groups, bias, slope, eps, momentum, p, mean, std, body, shortcut
    case pattern, shift, mask, width, depth, mix, branches, chain, seed
    case outputPadding = "output_padding"
    case minSize = "min_size"
  }

  public init(type: String, name: String? = nil, out: Int? = nil, kernel: Int? = nil, stride: Int? = nil,
              padding: Int? = nil, dilation: Int? = nil, groups: Int? = nil, outputPadding: Int? = nil,
              bias: Bool? = nil, slope: Float? = nil, eps: Float? = nil, momentum: Float? = nil, p: Float? = nil,
              mean: [Float]? = nil, std: [Float]? = nil, body: [LayerSpec]? = nil, shortcut: [LayerSpec]? = nil) {
    self.type = type; self.name = name; self.out = out; self.kernel = kernel; self.stride = stride
    self.padding = padding; self.dilation = dilation; self.groups = groups; self.outputPadding = outputPadding
    self.bias = bias; self.slope = slope; self.eps = eps; self.momentum = momentum; self.p = p
    self.mean = mean; self.std = std; self.body = body; self.shortcut = shortcut
  }
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
