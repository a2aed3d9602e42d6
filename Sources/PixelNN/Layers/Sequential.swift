import PixelTensor

/// Layers applied in order. Each child is named like PyTorch's `nn.Sequential` — by its index —
/// unless it was given a name (model specs name their parametric layers: `conv1.weight`).
public final class Sequential: Layer {
  public var mode: Mode = .training
  /// Whether every layer inside is.
  public var isSamplewise: Bool { layers.allSatisfy { $0.layer.isSamplewise } }
  public let layers: [(name: String, layer: any Layer)]

  /// Named layers; an empty name stands for the layer's index.
  public init(_ layers: [(name: String, layer: any Layer)]) {
    self.layers = layers.enumerated().map { ($0.element.name.isEmpty ? "\($0.offset)" : $0.element.name, $0.element.layer) }
  }

  /// Layers named by index.
  public convenience init(_ layers: [any Layer]) { self.init(layers.map { (name: "", layer: $0) }) }

  public var members: [ModuleMember] { layers.map { .module($0.name, $0.layer) } }

  public func callAsFunction(_ x: Tensor) -> Tensor { apply(x, upTo: layers.count) }

  /// `relu(self(x) + skip)` (a residual block's body, its sum and ReLU): when the body ends in a
  /// convolution, optionally with a batch norm in inference mode, that convolution adds `skip` and
  /// clamps in cache (``Conv2D/callAsFunction(_:foldingInference:addingReLU:)``); when it ends in
  /// a batch norm in training mode, the normalization's pass does (``BatchNorm/callAsFunction(_:addingReLU:)``).
  /// The same bits either way.
  public func callAsFunction(_ x: Tensor, addingReLU skip: Tensor) -> Tensor {
    let n = layers.count
    if n >= 2, let conv = layers[n - 2].layer as? Conv2D, let norm = layers[n - 1].layer as? BatchNorm,
       norm.mode == .inference {
      return conv(apply(x, upTo: n - 2), foldingInference: norm, addingReLU: skip)
    }
    if n >= 1, let norm = layers[n - 1].layer as? BatchNorm, norm.mode == .training {
      return norm(apply(x, upTo: n - 1), addingReLU: skip)
    }
    if n >= 1, let conv = layers[n - 1].layer as? Conv2D {
      return conv(apply(x, upTo: n - 1), foldingInference: nil, addingReLU: skip)
    }
    return self(x).addingReLU(skip)
  }

  /// Layers `0..<end` applied in order, fused where they can be.
  private func apply(_ x: Tensor, upTo end: Int) -> Tensor {
    var h = x
    var i = 0
    while i < end {
      // NOTE: ReLU then max-pool equals max-pool then ReLU (max commutes with a monotone map),
      // values and derivatives alike; pooling first runs the ReLU on a quarter of the elements,
      // which saves three passes over the largest activation of a CNN. A convolution right
      // before them pools each chunk of its output while it is in cache (same graph, same values).
      let next = i + 1 < end ? layers[i + 1].layer : nil
      let afterNext = i + 2 < end ? layers[i + 2].layer : nil
      if let conv = layers[i].layer as? Conv2D, let norm = next as? BatchNorm, norm.mode == .inference {
        // NOTE: batch norm with running statistics is a per-channel affine map, so it folds into
        // the convolution's weights and bias: one pass over the activation instead of two, and
        // none in the backward pass (PyTorch's ONNX export and `torch.fx` fusion do the same).
        // A ReLU after it is applied in cache.
        let relu = afterNext is ReLU
        h = conv(h, foldingInference: norm, relu: relu)
        i += relu ? 3 : 2
      } else if let norm = layers[i].layer as? BatchNorm, norm.mode == .training, next is ReLU {
        // Training-mode batch norm's affine pass applies the ReLU after it while in registers.
        h = norm(h, relu: true)
        i += 2
      } else if let residual = layers[i].layer as? Residual, next is ReLU {
        h = residual(h, relu: true)
        i += 2
      } else if let conv = layers[i].layer as? Conv2D, conv.groups == 1, next is ReLU, let pool = afterNext as? MaxPool2D {
        h = conv(h, thenMaxPool: pool).relu()
        i += 3
      } else if let conv = layers[i].layer as? Conv2D, next is ReLU {
        h = conv(h, relu: true)
        i += 2
      } else if layers[i].layer is ReLU, let pool = next as? MaxPool2D {
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
