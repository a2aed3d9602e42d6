import PixelNN
import PixelTensor

/// The stochastic PRM-switching defense (Hwang et al., 2019): several PRM-defended models, of
/// which each forward pass draws one at random (with `chain > 1`, the PRMs of `chain` random
/// branches are applied in sequence before the last drawn branch's classifier).
///
/// This is a *randomized* model in inference mode too: attack it with EOT and classify each
/// adversarial example several times, keeping the worst case (Athalye et al., 2018). Draws come from a seeded generator owned by
/// the layer; ``reseed(_:)`` restarts the sequence.
public final class SwitchingLayer: RandomizedLayer {
  public var mode: Mode = .training
  /// Each branch: a PRM layer followed by its classifier's layers.
  public let branches: [Sequential]
  /// How many PRMs are applied per forward pass.
  public let chain: Int
  private var generator: SeededGenerator

  /// A switch over `branches` applying `chain` PRMs per forward pass, drawing from `seed`.
  /// - Precondition: at least one branch, `chain ≥ 1`, and with `chain > 1` every branch starts
  ///   with a ``PRMLayer``.
  public init(branches: [Sequential], chain: Int = 1, seed: UInt64 = 0) {
    precondition(!branches.isEmpty && chain >= 1, "switching needs branches and chain ≥ 1")
    precondition(chain == 1 || branches.allSatisfy { $0.layers.first?.layer is PRMLayer },
                 "chaining needs every branch to start with a PRM layer")
    self.branches = branches
    self.chain = chain
    generator = SeededGenerator(seed: seed)
  }

  public var members: [ModuleMember] { branches.enumerated().map { .module("\($0.offset)", $0.element) } }

  /// `true`: every forward pass draws a branch.
  public var drawsInInference: Bool { true }

  /// Restarts the sequence of random draws.
  public func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    var h = x
    var last = 0
    for step in 0..<chain {
      last = Int.random(in: 0..<branches.count, using: &generator)
      if step < chain - 1 { h = branches[last].layers[0].layer(h) }
    }
    return branches[last](h)
  }
}

extension SwitchingLayer {
  /// The spec kind `switch`: fields `name`, `branches` (lists of layers, each a PRM followed by
  /// a classifier; parameters under `<name>.<branch>.`), `chain` (1) and `seed` (the model's).
  public static let specBuilder = LayerBuilder(type: "switch", options: ["branches", "chain"]) { s, input, context in
    let branchSpecs = try context.required(context.option(s, "branches", as: [[LayerSpec]].self), "branches", for: s.type)
    guard !branchSpecs.isEmpty else { throw context.invalid("switch needs at least one branch") }
    let path = context.path
    var branches: [Sequential] = []
    var out: [Int]?
    for (b, spec) in branchSpecs.enumerated() {
      let (seq, shape) = try context.sequential(spec, input: input, path: "\(path).branches[\(b)]",
                                                prefix: context.prefix + (s.name ?? "") + ".\(b).")
      guard out == nil || out == shape else { throw context.invalid("branches give different output shapes") }
      out = shape
      branches.append(seq)
    }
    let chain = try context.positive(context.option(s, "chain", as: Int.self) ?? 1, "chain")
    if chain > 1, !branches.allSatisfy({ $0.layers.first?.layer is PRMLayer }) {
      throw context.invalid("chain > 1 needs every branch to start with a prm layer")
    }
    return (SwitchingLayer(branches: branches, chain: chain, seed: s.seed ?? context.seed), out!)
  }
}
