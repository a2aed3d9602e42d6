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

  /// Builds `spec`, initialised from `seed`.
  public init(spec: ModelSpec, seed: UInt64, source: String = "<spec>") throws {
    self.spec = spec
    network = try spec.build(seed: seed, source: source)
  }

  public var members: [ModuleMember] { network.members }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    precondition(Array(x.shape.dims.dropFirst()) == spec.input,
                 "model expects inputs [N, \(spec.input.map(String.init).joined(separator: ", "))], got \(x.shape)")
    return network(x)
  }

  public func logits(_ x: Tensor) -> Tensor { self(x) }

  /// The model's PRM layer, if its first layer is one.
  public var prm: PRMLayer? { network.layers.first?.layer as? PRMLayer }

  /// Whether some layer draws random numbers in inference mode (switching, random resizing).
  public var isRandomized: Bool {
    func walk(_ m: any Module) -> Bool {
      if m is SwitchingLayer || m is RandomResizePad { return true }
      for case .module(_, let child) in m.members where walk(child) { return true }
      return false
    }
    return walk(network)
  }

  /// Restarts the draws of every randomized layer (switching, random resizing) from `seed`.
  public func reseedRandomizedLayers(_ seed: UInt64) {
    var i: UInt64 = 0
    func walk(_ m: any Module) {
      i += 1
      if let s = m as? SwitchingLayer { s.reseed(seed &+ i) }
      if let r = m as? RandomResizePad { r.reseed(seed &+ i) }
      for case .module(_, let child) in m.members { walk(child) }
    }
    walk(network)
  }

  /// Reseeds every dropout layer from `seed` (a trainer does this per epoch so that resumed
  /// runs draw the same masks).
  public func reseedDropout(_ seed: UInt64) {
    var i: UInt64 = 0
    func walk(_ m: any Module) {
      if let d = m as? Dropout { i += 1; d.reseed(seed &+ i &* 0x9E37_79B9) }
      for case .module(_, let child) in m.members { walk(child) }
    }
    walk(network)
  }
}
