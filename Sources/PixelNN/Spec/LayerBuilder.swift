import PixelTensor

/// Builds the layers of one spec `type`: reads the ``LayerSpec``'s fields, checks them against
/// the per-example input shape and returns the layer with its output shape.
///
/// Each module contributes the kinds it owns (PixelNN the generic layers in
/// ``ModelBuilder/standard``, PixelDefenses its defenses); a ``ModelBuilder`` collects them.
public struct LayerBuilder: Sendable {
  /// Builds `spec` for inputs of per-example shape `input` (no batch axis).
  public typealias Build = @Sendable (_ spec: LayerSpec, _ input: [Int], _ context: inout LayerBuildContext) throws
    -> (layer: any Layer, output: [Int])

  /// The spec `type` this builder handles, e.g. `"conv2d"`.
  public let type: String
  /// The keys of ``LayerSpec/options`` this kind reads; any other option is an error (a typo
  /// such as `"widht"` must not be ignored silently).
  public let options: Set<String>
  let build: Build

  /// A builder for `type` that reads `options` besides the typed fields.
  public init(type: String, options: Set<String> = [], build: @escaping Build) {
    self.type = type
    self.options = options
    self.build = build
  }
}

/// What a ``LayerBuilder`` sees while a spec is built: where it is (for error messages and
/// parameter names), the generator that initialises weights, and the way to build nested layer
/// lists (residual bodies, switch branches) with the same builder.
public struct LayerBuildContext {
  /// Names the spec in errors (a file path or `"<spec>"`).
  public let source: String
  /// The model's seed; randomized layers without a seed of their own derive theirs from it.
  public let seed: UInt64
  /// Initialises weights, layer by layer in spec order (as PyTorch does module by module).
  public var rng: SeededGenerator
  /// The layer's place in the spec, e.g. `layers[3].body[1]`.
  public private(set) var path: String = "layers"
  /// The dotted prefix of the layer's parameter paths inside containers (`layer1_0.`).
  public private(set) var prefix: String = ""
  let builder: ModelBuilder
  var names: Set<String> = []
  var nesting = 0
  var ordinals: [String: UInt64] = [:]

  /// The largest extent, channel count, kernel, stride, padding or dilation a spec may hold.
  /// Bounds every size before arithmetic on it, so no spec overflows or asks for an absurd
  /// allocation (2²⁴ is far above any real network's).
  public static let maximumExtent = 1 << 24

  /// The deepest nesting of layer lists (residual bodies, branches) a spec may hold: each level
  /// is a few stack frames when the model is built, run and saved.
  public static let maximumNesting = 64

  init(source: String, seed: UInt64, builder: ModelBuilder) {
    self.source = source
    self.seed = seed
    self.builder = builder
    rng = SeededGenerator(seed: seed)
  }

  /// The error `"<path>: <reason>"` for this spec's source.
  public func invalid(_ reason: String) -> ModelSpecError { .invalid(source: source, reason: "\(path): \(reason)") }

  /// `value`, or an error saying that `type` needs `field`.
  public func required<T>(_ value: T?, _ field: String, for type: String) throws -> T {
    guard let value else { throw invalid("\(type) needs '\(field)'") }
    return value
  }

  /// The input as an image `[C, H, W]`, or an error saying that `type` needs one.
  public func image(_ input: [Int], for type: String) throws -> (channels: Int, height: Int, width: Int) {
    guard input.count == 3 else { throw invalid("\(type) needs an image input [C, H, W], got \(input)") }
    return (input[0], input[1], input[2])
  }

  /// `value` if it is in `1...maximumExtent`.
  public func positive(_ value: Int, _ field: String) throws -> Int {
    guard value > 0, value <= Self.maximumExtent else {
      throw invalid("'\(field)' must be in 1...\(Self.maximumExtent), got \(value)")
    }
    return value
  }

  /// `value` if it is in `0...maximumExtent`.
  public func nonNegative(_ value: Int, _ field: String) throws -> Int {
    guard value >= 0, value <= Self.maximumExtent else {
      throw invalid("'\(field)' must be in 0...\(Self.maximumExtent), got \(value)")
    }
    return value
  }

  /// The largest number of elements one example's activation or one weight tensor may hold
  /// (2²⁸ floats, 1 GiB): a spec asking for more is refused before anything is allocated.
  public static let maximumElements = 1 << 28

  /// The product of `factors` if it is at most ``maximumElements`` (checked without overflow),
  /// else an error naming `what`.
  public func elementCount(_ factors: [Int], of what: String) throws -> Int {
    var n = 1
    for f in factors {
      let (p, overflow) = n.multipliedReportingOverflow(by: Swift.max(f, 0))
      guard !overflow, p <= Self.maximumElements else {
        throw invalid("\(what) of shape \(factors) exceeds \(Self.maximumElements) elements")
      }
      n = p
    }
    return n
  }

  /// The output extent of a window of `kernel` (dilated by `dilation`) sliding over `size` with
  /// `stride` and `padding`: `⌊(size + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1`.
  /// The arguments must already be bounded by ``maximumExtent`` (so nothing overflows).
  public func windowOutput(size: Int, kernel: Int, stride: Int, padding: Int, dilation: Int = 1) throws -> Int {
    let span = size + 2 * padding - dilation * (kernel - 1) - 1
    guard span >= 0 else {
      throw invalid("a \(kernel)×\(kernel) window (stride \(stride), padding \(padding)) does not fit \(size)")
    }
    return span / stride + 1
  }

  /// Option `key` of `spec` as a `T`, or an error naming the option and the expected type.
  public func option<T: Decodable>(_ spec: LayerSpec, _ key: String, as type: T.Type = T.self) throws -> T? {
    do { return try spec.option(key, as: type) } catch {
      throw invalid("'\(key)' of \(spec.type) must be \(describe(type))")
    }
  }

  /// 1 for the first layer of `type` built in this model, 2 for the second, and so on: lets
  /// layers of one kind derive distinct seeds from the model's.
  public mutating func ordinal(of type: String) -> UInt64 {
    let n = (ordinals[type] ?? 0) + 1
    ordinals[type] = n
    return n
  }

  /// Builds a nested list of layers (`path` e.g. `layers[2].body`, parameter names under
  /// `prefix`), returning it with its output shape.
  public mutating func sequential(_ specs: [LayerSpec], input: [Int], path: String, prefix: String) throws
    -> (Sequential, [Int]) {
    let (outerPath, outerPrefix) = (self.path, self.prefix)
    guard nesting < Self.maximumNesting else { throw invalid("layer lists are nested more than \(Self.maximumNesting) deep") }
    nesting += 1
    defer { (self.path, self.prefix, nesting) = (outerPath, outerPrefix, nesting - 1) }
    var shape = input
    var layers: [(name: String, layer: any Layer)] = []
    for (i, spec) in specs.enumerated() {
      self.path = "\(path)[\(i)]"
      self.prefix = prefix
      let name = spec.name ?? ""
      if !name.isEmpty {
        guard !name.contains("."), names.insert(prefix + name).inserted else {
          throw invalid("layer name '\(name)' is repeated or contains a dot")
        }
      }
      guard let kind = builder.builders[spec.type] else {
        throw invalid("unknown layer type '\(spec.type)' (known: \(builder.layerTypes.joined(separator: ", ")))")
      }
      if let stray = spec.options.keys.sorted().first(where: { !kind.options.contains($0) }) {
        throw invalid("\(spec.type) has no field '\(stray)'"
                      + (kind.options.isEmpty ? "" : " (its own fields: \(kind.options.sorted().joined(separator: ", ")))"))
      }
      let (layer, out) = try kind.build(spec, shape, &self)
      _ = try elementCount(out, of: "the output")
      // Unnamed layers take their index, as in PyTorch's nn.Sequential.
      if name.isEmpty && !layer.members.isEmpty {
        guard names.insert(prefix + "\(i)").inserted else { throw invalid("index name clashes") }
      }
      layers.append((name: name, layer: layer))
      shape = out
    }
    return (Sequential(layers), shape)
  }
}

private func describe(_ type: Any.Type) -> String {
  switch type {
  case is Int.Type, is UInt64.Type: return "an integer"
  case is Float.Type, is Double.Type: return "a number"
  case is String.Type: return "a string"
  case is Bool.Type: return "true or false"
  case is [Int].Type: return "a list of integers"
  default: return "a \(type)"
  }
}
