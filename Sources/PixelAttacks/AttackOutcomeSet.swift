import Foundation
import PixelData
import PixelNN
import PixelTensor

/// The per-example outcomes behind an ``AttackReport``: one entry per attack and ε (an
/// ensemble keeps its members' outcomes), and the FGSM references of a PGD run. Sets of
/// consecutive parts of a data set concatenate into the single run's set. JSON keys are the
/// property names.
public struct AttackOutcomeSet: Codable, Sendable, Equatable {
  /// One row of the report, or an ensemble's rows.
  public enum Entry: Codable, Sendable, Equatable {
    case single(AttackOutcomes)
    case ensemble(name: String, members: [AttackOutcomes])
  }

  public var entries: [Entry]
  /// FGSM at each ε, the "PGD ≤ FGSM" guard's reference (empty without a PGD).
  public var references: [AttackOutcomes]
  /// Whether the attacks aimed at class `(y + 1) mod K`.
  public var targeted: Bool

  /// Runs every attack of `attacks` at each ε of `epsilons`, with FGSM (at the largest EOT
  /// count of the PGDs) as the reference when a PGD is among them.
  /// - Parameter first: the global index of `data`'s first example (a shard's offset).
  public static func run(_ attacks: [any BoundedAttack], model: Model, data: Dataset, first: Int = 0, norm: Norm,
                         epsilons: [Float], mask: Tensor?, targeted: Bool, runner: AttackRunner,
                         progress: (String) -> Void = { _ in }, imagesDone: (Int, Int) -> Void = { _, _ in },
                         onBatch: (Float, Tensor, Tensor, [Int]) -> Void = { _, _, _, _ in }) throws -> AttackOutcomeSet {
    var entries: [Entry] = [], references: [AttackOutcomes] = []
    let referenceEOT = attacks.flatMap { ($0 as? AttackEnsemble)?.members ?? [$0] }.compactMap { ($0 as? PGD)?.eotSamples }.max()
    for eps in epsilons {
      let threat = try ThreatModel(norm: norm, epsilon: eps, mask: mask)
      func outcomes(_ attack: any BoundedAttack, _ line: String) -> AttackOutcomes {
        progress(line)
        return runner.outcomes(attack, model: model, data: data, first: first, threat: threat, targeted: targeted,
                               progress: imagesDone, onBatch: { onBatch(eps, $0, $1, $2) })
      }
      for attack in attacks {
        if let ensemble = attack as? AttackEnsemble {
          let members = ensemble.members.map { outcomes($0, "\($0.name) at ε = \(eps) (ensemble member)") }
          entries.append(.ensemble(name: ensemble.name, members: members))
        } else {
          entries.append(.single(outcomes(attack, "\(attack.name) at ε = \(eps)")))
        }
      }
      if let eot = referenceEOT {
        progress("fgsm reference at ε = \(eps)")
        references.append(runner.outcomes(FGSM(eotSamples: eot), model: model, data: data, first: first, threat: threat,
                                          targeted: targeted, progress: imagesDone))
      }
    }
    return AttackOutcomeSet(entries: entries, references: references, targeted: targeted)
  }

  /// Every entry's outcomes (members' and references' too).
  var all: [AttackOutcomes] {
    entries.flatMap { entry -> [AttackOutcomes] in
      switch entry {
      case let .single(o): [o]
      case let .ensemble(_, members): members
      }
    } + references
  }

  /// Whether every outcome list holds `count` examples (a part read back from a file).
  public func holds(_ count: Int) -> Bool { all.allSatisfy { $0.holds(count) } }

  /// Whether `other` has the same rows (entries, ensemble members and references of the same
  /// attacks at the same ε), so that the two concatenate.
  public func hasTheRows(of other: AttackOutcomeSet) -> Bool {
    func key(_ o: AttackOutcomes) -> String { o.rowKey }
    func shape(_ s: AttackOutcomeSet) -> [String] {
      ["\(s.entries.count) entries"] + s.entries.map { entry in
        switch entry {
        case let .single(o): key(o)
        case let .ensemble(name, members): ([name] + members.map(key)).joined(separator: "|")
        }
      } + s.references.map(key)
    }
    return targeted == other.targeted && shape(self) == shape(other)
  }

  /// The set of `parts`, consecutive parts of one data set run with the same attacks.
  /// - Precondition: the parts have the same entries, references and targeting.
  public static func concatenating(_ parts: [AttackOutcomeSet]) -> AttackOutcomeSet {
    precondition(parts.allSatisfy { $0.entries.count == parts[0].entries.count && $0.references.count == parts[0].references.count
                                    && $0.targeted == parts[0].targeted }, "parts of one attack run")
    let entries = parts[0].entries.indices.map { e -> Entry in
      switch parts[0].entries[e] {
      case .single:
        return .single(.concatenating(parts.map { if case let .single(o) = $0.entries[e] { return o }; preconditionFailure("entry \(e) differs") }))
      case let .ensemble(name, members):
        return .ensemble(name: name, members: members.indices.map { m in
          .concatenating(parts.map { if case let .ensemble(_, ms) = $0.entries[e] { return ms[m] }; preconditionFailure("entry \(e) differs") })
        })
      }
    }
    let references = parts[0].references.indices.map { r in AttackOutcomes.concatenating(parts.map { $0.references[r] }) }
    return AttackOutcomeSet(entries: entries, references: references, targeted: parts[0].targeted)
  }
}
