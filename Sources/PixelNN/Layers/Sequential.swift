import PixelTensor

/// Layers applied in order. Each child is named like PyTorch's `nn.Sequential` — by its index —
/// unless it was given a name (model specs name their parametric layers: `conv1.weight`).
public final class Sequential: Layer {
  public var mode: Mode = .training
  public let layers: [(name: String, layer: any Layer)]

  /// Named layers; an empty name stands for the layer's index.
  public init(_ layers: [(name: String, layer: any Layer)]) {
    self.layers = layers.enumerated().map { ($0.element.name.isEmpty ? "\($0.offset)" : $0.element.name, $0.element.layer) }
  }

  /// Layers named by index.
  public convenience init(_ layers: [any Layer]) { self.init(layers.map { (name: "", layer: $0) }) }

  public var members: [ModuleMember] { layers.map { .module($0.name, $0.layer) } }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    var h = x
    var i = 0
    while i < layers.count {
      // NOTE: ReLU then max-pool equals max-pool then ReLU (max commutes with a monotone map),
      // values and derivatives alike; pooling first runs the ReLU on a quarter of the elements,
      // which saves three passes over the largest activation of a CNN.
      if i + 1 < layers.count, layers[i].layer is ReLU, let pool = layers[i + 1].layer as? MaxPool2D {
        h = pool(h).relu()
        i += 2
      } else {
        h = layers[i].layer(h)
        i += 1
      }
    }
    return h
  }
}
