import PixelTensor

/// Something that maps a batch of images in `[0, 1]` to differentiable logits.
///
/// Gradient attacks and analyses take a `Classifier`; they call it in inference mode.
public protocol Classifier: AnyObject {
  /// Logits `[N, classes]` for images `[N, C, H, W]`.
  func logits(_ x: Tensor) -> Tensor
  /// The input gradient `∂L/∂x` (detached, the shape of `x`) of a loss summed over examples,
  /// `L = Σₙ ℓₙ(f(xₙ))`: `loss(logits, rows)` returns `Σ_{n ∈ rows} ℓₙ` for the logits of
  /// those rows of the batch. The default runs the whole batch at once.
  func inputGradient(_ x: Tensor, loss: @Sendable (Tensor, Range<Int>) -> Tensor) -> Tensor
}

extension Classifier {
  public func inputGradient(_ x: Tensor, loss: @Sendable (Tensor, Range<Int>) -> Tensor) -> Tensor {
    wholeBatchInputGradient(x, logits: logits, loss: loss)
  }
}

/// One forward and one reverse pass over the whole batch; only `∂/∂x` is computed.
private func wholeBatchInputGradient(_ x: Tensor, logits: (Tensor) -> Tensor,
                                     loss: (Tensor, Range<Int>) -> Tensor) -> Tensor {
  let probe = x.detached().requiringGradient()
  let value = withGradients { loss(logits(probe), 0..<x.shape[0]) }
  return gradients(of: value, wrt: [probe])[0]
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

  public var isSamplewise: Bool { network.isSamplewise }

  /// The network on `x`. Unrecorded (inside ``withoutGradients(_:)``) and ``isSamplewise``, a
  /// batch runs as blocks of examples spread over the cores (``parallelRowBlocks(_:minimumRows:_:)``):
  /// the same values, to the bit, faster.
  public func callAsFunction(_ x: Tensor) -> Tensor {
    checkInput(x)
    guard !GradMode.isEnabled, isSamplewise else { return network(x) }
    // NOTE: blocks share the layers read-only: a samplewise tree is in inference mode, where no
    // layer writes its state (running statistics, generators).
    nonisolated(unsafe) let network = network
    return parallelRowBlocks(x.shape[0], minimumRows: Model.minimumBlockRows) { rows in network(x.rows(rows)) }
  }

  public func logits(_ x: Tensor) -> Tensor { self(x) }

  /// Blocks of examples on the cores when the model ``isSamplewise`` (each block's forward and
  /// reverse pass whole on one core), else the whole batch at once; the same bits either way.
  public func inputGradient(_ x: Tensor, loss: @Sendable (Tensor, Range<Int>) -> Tensor) -> Tensor {
    checkInput(x)
    guard isSamplewise else { return wholeBatchInputGradient(x, logits: network.callAsFunction, loss: loss) }
    nonisolated(unsafe) let network = network
    return parallelRowBlocks(x.shape[0], minimumRows: Model.minimumBlockRows) { rows in
      wholeBatchInputGradient(withoutGradients { x.rows(rows) }, logits: network.callAsFunction) { logits, _ in loss(logits, rows) }
    }
  }

  private func checkInput(_ x: Tensor) {
    precondition(Array(x.shape.dims.dropFirst()) == spec.input,
                 "model expects inputs [N, \(spec.input.map(String.init).joined(separator: ", "))], got \(x.shape)")
  }

  /// The smallest block of examples worth a core of its own: below it the per-operation costs
  /// of running a block apart outweigh the barriers it saves.
  static let minimumBlockRows = 4

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
