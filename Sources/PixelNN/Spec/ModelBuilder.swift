/// The layer kinds a model spec may use, composed from the modules that own them:
/// `ModelBuilder.standard` (PixelNN's generic layers) plus, for example, PixelDefenses'
/// `ModelBuilder.defenses`. A value, not global state: callers say which kinds they accept.
public struct ModelBuilder: Sendable {
  /// The builders by spec `type`.
  public private(set) var builders: [String: LayerBuilder]

  /// A builder knowing exactly `kinds`.
  /// - Precondition: no two kinds share a `type`.
  public init(_ kinds: [LayerBuilder]) {
    builders = Dictionary(kinds.map { ($0.type, $0) }, uniquingKeysWith: { a, _ in
      preconditionFailure("two builders for layer type '\(a.type)'")
    })
  }

  /// These kinds and `other`'s.
  /// - Precondition: the two share no `type`.
  public func adding(_ other: ModelBuilder) -> ModelBuilder {
    ModelBuilder(Array(builders.values) + Array(other.builders.values))
  }

  /// The known spec types, sorted.
  public var layerTypes: [String] { builders.keys.sorted() }

  /// Builds `spec`'s network, initialised like PyTorch's layers from a generator seeded with
  /// `seed`.
  /// - Throws: ``ModelSpecError`` naming `source` and the layer's path for unknown layer types,
  ///   unknown or missing fields, shapes that do not fit (e.g. `linear` on an unflattened
  ///   input), duplicate names and a last layer that does not give `classes` logits.
  public func build(_ spec: ModelSpec, seed: UInt64, source: String = "<spec>") throws -> Sequential {
    let bound = LayerBuildContext.maximumExtent
    guard !spec.input.isEmpty, spec.input.count <= 4, spec.input.allSatisfy({ $0 > 0 && $0 <= bound }) else {
      throw ModelSpecError.invalid(source: source, reason: "input must be 1 to 4 extents in 1...\(bound), got \(spec.input)")
    }
    guard spec.classes > 0, spec.classes <= bound else {
      throw ModelSpecError.invalid(source: source, reason: "classes must be in 1...\(bound), got \(spec.classes)")
    }
    var context = LayerBuildContext(source: source, seed: seed, builder: self)
    _ = try context.elementCount(spec.input, of: "the input")
    let (net, outShape) = try context.sequential(spec.layers, input: spec.input, path: "layers", prefix: "")
    guard outShape == [spec.classes] else {
      throw ModelSpecError.invalid(source: source,
                                   reason: "the last layer gives shape \(outShape) per example, expected [\(spec.classes)] logits")
    }
    return net
  }
}
