import PixelTensor

/// Something that maps a batch of images in `[0, 1]` to differentiable logits.
///
/// Gradient attacks and analyses take a `Classifier`; they call it in inference mode.
public protocol Classifier: AnyObject {
  /// Logits `[N, classes]` for images `[N, C, H, W]`.
  func logits(_ x: Tensor) -> Tensor
}

/// A network built from a ``ModelSpec``: the unit that checkpoints, imports, training and
/// evaluation work with. Parameter paths are the spec's layer names (`conv1.weight`).
public final class Model: Layer, Classifier {
  public var mode: Mode = .training
  /// The description the network was built from.
  public let spec: ModelSpec
  /// The layers.
  public let network: Sequential

  /// The layer kinds this model was built with; derived models (a defense around it) are built
  /// with them too.
  public let builder: ModelBuilder

  /// Builds `spec` with the layer kinds of `builder`, initialised from `seed`; `source` names the
  /// spec in errors.
  /// - Throws: ``ModelSpecError`` for a spec `builder` cannot build.
  public init(spec: ModelSpec, seed: UInt64, source: String = "<spec>", builder: ModelBuilder = .standard) throws {
    self.spec = spec
    self.builder = builder
    network = try builder.build(spec, seed: seed, source: source)
  }

  public var members: [ModuleMember] { network.members }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    precondition(Array(x.shape.dims.dropFirst()) == spec.input,
                 "model expects inputs [N, \(spec.input.map(String.init).joined(separator: ", "))], got \(x.shape)")
    return network(x)
  }

  public func logits(_ x: Tensor) -> Tensor { self(x) }

  /// Every randomized layer of the tree, in depth-first order, with its position in the walk
  /// (1-based, counting every module) that derived seeds are keyed by.
  private var randomizedLayers: [(position: UInt64, layer: any RandomizedLayer)] {
    var out: [(UInt64, any RandomizedLayer)] = []
    var position: UInt64 = 0
    func walk(_ m: any Module) {
      position += 1
      if let r = m as? any RandomizedLayer { out.append((position, r)) }
      for case .module(_, let child) in m.members { walk(child) }
    }
    walk(network)
    return out
  }

  /// Whether some layer draws random numbers in inference mode (a randomized defense).
  public var isRandomized: Bool { randomizedLayers.contains { $0.layer.drawsInInference } }

  /// Restarts the draws of every layer that draws in inference mode from `seed` (layer at walk
  /// position `i` from `seed + i`).
  public func reseedRandomizedLayers(_ seed: UInt64) {
    for (position, layer) in randomizedLayers where layer.drawsInInference { layer.reseed(seed &+ position) }
  }

  /// Reseeds every layer that draws only in training (dropout) from `seed` (the `k`-th from
  /// `seed + k·0x9E3779B9`); a trainer does this per epoch so that resumed runs draw the same masks.
  public func reseedTrainingDraws(_ seed: UInt64) {
    var k: UInt64 = 0
    for (_, layer) in randomizedLayers where !layer.drawsInInference {
      k += 1
      layer.reseed(seed &+ k &* 0x9E37_79B9)
    }
  }
}
