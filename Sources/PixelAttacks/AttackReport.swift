import Foundation
import PixelData
import PixelNN
import PixelTensor

/// A robustness report over a list of ε with the evaluation guards built in (the checks of
/// Carlini et al., 2019, "On Evaluating Adversarial Robustness"):
/// ε = 0 must give clean accuracy, accuracy must not rise with ε, PGD must not beat FGSM at
/// the same ε, the threat model must hold (bounds, budget, mask), gradients must be usable,
/// and a randomized model must be flagged.
public struct AttackReport: Codable, Sendable {
  /// JSON `model`: the checkpoint's name as given.
  public var model: String
  /// JSON `data`: the data set's name (source, split).
  public var data: String
  /// JSON `results`: one row per attack and ε, in the order run.
  public var results: [AttackResult]
  /// JSON `fgsmReference`: FGSM at each ε of a PGD run (the "PGD ≤ FGSM" guard), one per ε.
  public var fgsmReference: [AttackResult]
  /// JSON `randomizedModel`: whether two identical forward passes gave different logits.
  public var randomizedModel: Bool
  /// JSON `warnings`: guard violations and warnings, in words. Empty means every check passed.
  public var warnings: [String]

  /// Runs `attack` at each ε of `epsilons` and checks the guards.
  public static func evaluate(_ attack: any BoundedAttack, model: Model, modelName: String, data: Dataset,
                              norm: Norm, epsilons: [Float], mask: Tensor?, targeted: Bool, runner: AttackRunner,
                              progress: (String) -> Void = { _ in },
                              onBatch: (Float, Tensor, Tensor, [Int]) -> Void = { _, _, _, _ in }) throws -> AttackReport {
    try evaluate([attack], model: model, modelName: modelName, data: data, norm: norm, epsilons: epsilons, mask: mask,
                 targeted: targeted, runner: runner, progress: progress, onBatch: onBatch)
  }

  /// Runs every attack of `attacks` at each ε of `epsilons` (with FGSM once per ε as the
  /// reference when a PGD is among them) and checks the guards.
  /// - Parameters:
  ///   - progress: a line per attack and ε.
  ///   - imagesDone: after every batch, the images attacked so far in this attack and ε and
  ///     the data set's size.
  ///   - onBatch: ε, clean images, adversarial images and labels of every batch.
  public static func evaluate(_ attacks: [any BoundedAttack], model: Model, modelName: String, data: Dataset,
                              norm: Norm, epsilons: [Float], mask: Tensor?, targeted: Bool, runner: AttackRunner,
                              progress: (String) -> Void = { _ in },
                              imagesDone: (Int, Int) -> Void = { _, _ in },
                              onBatch: (Float, Tensor, Tensor, [Int]) -> Void = { _, _, _, _ in }) throws -> AttackReport {
    let outcomes = try AttackOutcomeSet.run(attacks, model: model, data: data, norm: norm, epsilons: epsilons, mask: mask,
                                            targeted: targeted, runner: runner, progress: progress, imagesDone: imagesDone,
                                            onBatch: onBatch)
    return AttackReport(outcomes, model: modelName, data: data.name, randomized: isRandomized(model, data: data))
  }

  /// Two forward passes of the same batch in inference mode differ, or the model has a
  /// randomized layer.
  public static func isRandomized(_ model: Model, data: Dataset) -> Bool {
    if model.isRandomized { return true }
    let x = data.images.rows(0..<Swift.min(16, data.count))
    // NOTE: compare bit patterns: NaN logits differ from themselves as numbers, not as bits.
    return model.withMode(.inference) {
      withoutGradients { model.logits(x).scalars.map(\.bitPattern) != model.logits(x).scalars.map(\.bitPattern) }
    }
  }

  static func guards(results: [AttackResult], references: [AttackResult], randomized: Bool, targeted: Bool) -> [String] {
    var w: [String] = []
    // NOTE: a randomized model's ε = 0 row is a fresh draw, so it may differ from the clean
    // row by chance; the exact equality check applies to deterministic models.
    let tolerance = 1e-5
    for r in results {
      if r.epsilon == 0 && !randomized && r.robustAccuracy != r.cleanAccuracy {
        w.append("ε = 0 gave \(pct(r.robustAccuracy)) but clean accuracy is \(pct(r.cleanAccuracy))")
      }
      if r.maxOffMaskChange != 0 { w.append("ε = \(r.epsilon): pixels off the mask changed by up to \(r.maxOffMaskChange)") }
      if r.maxPerturbation > r.epsilon * (1 + tolerance) + 1e-6 {
        w.append("ε = \(r.epsilon): a perturbation of \(r.maxPerturbation) exceeds the budget")
      }
      if !r.withinBounds { w.append("ε = \(r.epsilon): adversarial pixels left [0, 1]") }
      let h = r.gradientHealth
      if h.nonFinite > 0 { w.append("\(h.nonFinite) of \(h.examples) inputs have NaN/Inf gradients") }
      if h.examples > 0 && Double(h.zero) / Double(h.examples) > 0.05 {
        w.append("\(h.zero) of \(h.examples) inputs have an all-zero gradient (masked or saturated): gradient attacks cannot move them")
      }
    }
    if !targeted {
      var names: [String] = []
      for r in results where !names.contains(r.attack) { names.append(r.attack) }
      for name in names {
        let ordered = results.filter { $0.attack == name }.sorted { $0.epsilon < $1.epsilon }
        for (a, b) in zip(ordered, ordered.dropFirst()) where b.robustAccuracy > a.robustAccuracy {
          w.append("\(name): accuracy rose from \(pct(a.robustAccuracy)) at ε = \(a.epsilon) to \(pct(b.robustAccuracy)) at ε = \(b.epsilon)")
        }
      }
      for p in results where p.attack.contains("pgd") {
        guard let f = references.first(where: { $0.epsilon == p.epsilon }), p.robustAccuracy > f.robustAccuracy else { continue }
        w.append("\(p.attack) (\(pct(p.robustAccuracy))) is weaker than FGSM (\(pct(f.robustAccuracy))) at ε = \(p.epsilon): check the step size and steps")
      }
    }
    // A gradient-free attack that beats an iterative gradient attack (PGD, APGD) at the same
    // budget means the gradients mislead (masking, obfuscation) or the gradient attack is
    // misconfigured. FGSM is one step and may lose to random search on an undefended model.
    // Differences of a single example are not reported.
    for b in results where isGradientFree(b.attack) {
      for g in results where g.attack.contains("pgd") && !g.attack.hasPrefix("ensemble") && g.epsilon == b.epsilon
        && g.targeted == b.targeted && g.maskFraction == b.maskFraction
        // A single example's difference is a coin flip, not evidence.
        && (g.robustAccuracy - b.robustAccuracy) * Double(b.count) >= 1.5 {
        w.append("gradient masking? the gradient-free \(b.attack) (\(pct(b.robustAccuracy))) beats \(g.attack) (\(pct(g.robustAccuracy))) at ε = \(b.epsilon)")
      }
    }
    if randomized, let r = results.first, !r.attack.hasPrefix("eot") {
      w.append("the model is randomized (two identical forwards differ): attack it with EOT (--eot N) and classify several times (--classify R)")
    }
    // The same gradient problem at every ε is one warning.
    var seen = Set<String>()
    return w.filter { seen.insert($0).inserted }
  }

  /// Square and one-pixel query only the logits.
  static func isGradientFree(_ attack: String) -> Bool { attack.hasPrefix("square") || attack.hasPrefix("onepixel") }

  static func pct(_ v: Double) -> String { String(format: "%.2f%%", v * 100) }

  /// A Markdown table of the results (with the FGSM reference at the same ε for PGD rows), then
  /// the warnings.
  public var markdown: String {
    let withReference = !fgsmReference.isEmpty
    var lines = ["| attack | norm | ε | mask | clean | robust | success | mean L∞ | mean L2 |" + (withReference ? " FGSM |" : ""),
                 "|---|---|---|---|---|---|---|---|---|" + (withReference ? "---|" : "")]
    for r in results {
      let ref = withReference
        ? " " + (fgsmReference.first { $0.epsilon == r.epsilon }.map { Self.pct($0.robustAccuracy) } ?? "–") + " |" : ""
      lines.append("| \(r.attack)\(r.targeted ? " (targeted)" : "") | \(r.norm) | \(r.epsilon) | \(Self.pct(r.maskFraction)) | "
                   + "\(Self.pct(r.cleanAccuracy)) | \(Self.pct(r.robustAccuracy)) | \(Self.pct(r.successRate)) | "
                   + String(format: "%.4f | %.4f |", r.meanLInfinity, r.meanL2) + ref)
    }
    lines.append("")
    lines.append(warnings.isEmpty ? "All evaluation guards passed." : "Warnings:\n" + warnings.map { "- " + $0 }.joined(separator: "\n"))
    return lines.joined(separator: "\n")
  }
}

extension AttackReport {
  /// The report of `outcomes` (of all of a data set, or the concatenated parts of it): one row
  /// per attack and ε, each ensemble's members and then its worst case, and the guards.
  /// - Parameter randomized: whether the model answers differently to the same input.
  public init(_ outcomes: AttackOutcomeSet, model: String, data: String, randomized: Bool) {
    var results: [AttackResult] = []
    for entry in outcomes.entries {
      switch entry {
      case let .single(o): results.append(AttackResult(o))
      case let .ensemble(name, members): results += Self.ensembleRows(name, members: members)
      }
    }
    let references = outcomes.references.map(AttackResult.init)
    self.init(model: model, data: data, results: results, fgsmReference: references, randomizedModel: randomized,
              warnings: Self.guards(results: results, references: references, randomized: randomized, targeted: outcomes.targeted))
  }

  /// Every member's row, then the ensemble's: per example the first member's adversarial
  /// example that fooled the model (robust only if every member failed).
  static func ensembleRows(_ name: String, members: [AttackOutcomes]) -> [AttackResult] {
    let rows = members.map(AttackResult.init)
    let count = members[0].count
    var robust = 0, linf = 0.0, l2 = 0.0
    for i in 0..<count {
      if let fooling = members.first(where: { !$0.robust[i] }) {
        linf += Double(fooling.lInfinity[i]); l2 += Double(fooling.l2[i])
      } else {
        robust += 1
      }
    }
    var row = rows[0]
    let n = Double(Swift.max(count, 1))
    row.attack = name
    row.robustAccuracy = Double(robust) / n
    let fooledCorrect = (row.cleanAccuracy - row.robustAccuracy) * n
    row.successRate = row.cleanAccuracy > 0 ? Swift.max(fooledCorrect, 0) / (row.cleanAccuracy * n) : 0
    row.meanLInfinity = linf / n
    row.meanL2 = l2 / n
    row.maxOffMaskChange = rows.map(\.maxOffMaskChange).max() ?? 0
    row.maxPerturbation = rows.map(\.maxPerturbation).max() ?? 0
    row.withinBounds = rows.allSatisfy(\.withinBounds)
    return rows + [row]
  }
}
