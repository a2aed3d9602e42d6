import PixelNN
import PixelTensor

/// Several bounded attacks as one, in the spirit of AutoAttack (Croce & Hein, 2020): each member
/// runs in turn on the examples no earlier member fooled, so every example ends with the first
/// adversarial example found — the worst case over the members. Examples no member fooled
/// come back clean.
///
/// ``AttackReport/evaluate(_:model:modelName:data:norm:epsilons:mask:targeted:runner:progress:imagesDone:onBatch:)``
/// reports every member on its own and the ensemble's worst case.
public struct AttackEnsemble: BoundedAttack {
  /// The attacks, in the order they run.
  public let members: [any BoundedAttack]

  /// An ensemble of `members`.
  /// - Throws: ``AttackError`` for fewer than two members.
  public init(_ members: [any BoundedAttack]) throws {
    guard members.count >= 2 else { throw AttackError.invalidStep("an ensemble needs at least two attacks") }
    self.members = members
  }

  public var name: String { "ensemble(" + members.map(\.name).joined(separator: "+") + ")" }

  public func perturb(_ x: Tensor, criterion: Criterion, within threat: ThreatModel, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    let per = x.elementCount / Swift.max(x.shape[0], 1)
    var values = x.scalars
    var open = Array(0..<x.shape[0])
    for member in members where !open.isEmpty {
      let criterion = criterion.subset(open)
      let adversarial = member.perturb(x.rows(at: open), criterion: criterion, within: threat, model: model, using: &rng)
      let fooled = criterion.isAdversarial(logits: withoutGradients { model.logits(adversarial) })
      let found = adversarial.scalars
      for (j, i) in open.enumerated() where fooled[j] {
        values.replaceSubrange((i * per)..<((i + 1) * per), with: found[(j * per)..<((j + 1) * per)])
      }
      open = open.enumerated().filter { !fooled[$0.offset] }.map(\.element)
    }
    return Tensor(values, shape: x.shape)
  }
}
