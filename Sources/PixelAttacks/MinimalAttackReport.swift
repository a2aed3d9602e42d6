import Foundation
import PixelData
import PixelNN
import PixelTensor

/// Minimal attacks' results on one model and data set, with the checks that keep them honest:
/// pixels off the mask unchanged, pixels in bounds, usable gradients, and an unbounded attack that fails on
/// correctly classified examples flagged (with no budget, a gradient attack that cannot fool an
/// example points to zero or misleading gradients).
public struct MinimalAttackReport: Codable, Sendable {
  /// JSON `model`: the checkpoint's name as given.
  public var model: String
  /// JSON `data`: the data set's name.
  public var data: String
  /// JSON `results`: one per attack, in the order run.
  public var results: [MinimalAttackResult]
  /// JSON `warnings`: guard violations, in words.
  public var warnings: [String]

  /// Runs every attack of `attacks` on `data`.
  /// - Parameters:
  ///   - first: the global index of `data`'s first example (a shard's offset).
  ///   - epsilons: the curve's budgets (per attack's norm); `nil` spans each attack's sizes.
  ///   - onBatch: attack name, clean images, adversarial images and labels of every batch.
  public static func evaluate(_ attacks: [any MinimalAttack], model: Model, modelName: String, data: Dataset, first: Int = 0,
                              domain: PixelDomain, targeted: Bool, epsilons: [Double]? = nil, runner: MinimalAttackRunner,
                              progress: (String) -> Void = { _ in }, imagesDone: (Int, Int) -> Void = { _, _ in },
                              onBatch: (String, Tensor, Tensor, [Int]) -> Void = { _, _, _, _ in }) -> MinimalAttackReport {
    var results: [MinimalAttackResult] = []
    for attack in attacks {
      progress(attack.name)
      results.append(runner.run(attack, model: model, data: data, first: first, domain: domain, targeted: targeted, epsilons: epsilons,
                                progress: imagesDone, onBatch: { onBatch(attack.name, $0, $1, $2) }))
    }
    return MinimalAttackReport(model: modelName, data: data.name, results: results, warnings: guards(results))
  }

  /// The report of consecutive parts of one data set, as one run over all of it; `nil` when the
  /// parts ran other attacks.
  public static func merging(_ parts: [MinimalAttackReport], data: String) -> MinimalAttackReport? {
    guard let first = parts.first, parts.allSatisfy({ $0.results.count == first.results.count }) else { return nil }
    var results: [MinimalAttackResult] = []
    for r in first.results.indices {
      guard let merged = MinimalAttackResult.merging(parts.map { $0.results[r] }) else { return nil }
      results.append(merged)
    }
    return MinimalAttackReport(model: first.model, data: data, results: results, warnings: guards(results))
  }

  static func guards(_ results: [MinimalAttackResult]) -> [String] {
    var w: [String] = []
    for r in results {
      if r.maxOffMaskChange != 0 { w.append("\(r.attack): pixels off the mask changed by up to \(r.maxOffMaskChange)") }
      if !r.withinBounds { w.append("\(r.attack): adversarial pixels left the bounds") }
      let h = r.gradientHealth
      if h.nonFinite > 0 { w.append("\(r.attack): \(h.nonFinite) of \(h.examples) inputs have NaN/Inf gradients") }
      if h.examples > 0 && Double(h.zero) / Double(h.examples) > 0.05 {
        w.append("\(r.attack): \(h.zero) of \(h.examples) inputs have an all-zero gradient on the mask: gradient attacks cannot move them")
      }
      if r.norm != PerturbationNorm.l0.rawValue && r.cleanAccuracy > 0 && r.successRate < 1 {
        let failed = r.norms.filter { $0 == nil }.count
        w.append("\(r.attack) fooled \(AttackReport.pct(r.successRate)) of the correctly classified examples (\(failed) failed): "
                 + "without a budget a gradient attack should fool all of them; check for zero or masked gradients")
      }
    }
    return w
  }

  /// A Markdown table (success, median and mean size, accuracy at a few budgets), then the warnings.
  public var markdown: String {
    var lines = ["| attack | norm | mask | clean | success | median size | mean size | s/image |",
                 "|---|---|---|---|---|---|---|---|"]
    for r in results {
      lines.append("| \(r.attack)\(r.targeted ? " (targeted)" : "") | \(r.norm) | \(AttackReport.pct(r.maskFraction)) | "
                   + "\(AttackReport.pct(r.cleanAccuracy)) | \(AttackReport.pct(r.successRate)) | "
                   + "\(r.medianNorm.map { String(format: "%.4f", $0) } ?? "–") | \(r.meanNorm.map { String(format: "%.4f", $0) } ?? "–") | "
                   + String(format: "%.4f |", r.secondsPerImage))
    }
    lines.append("")
    lines.append(warnings.isEmpty ? "All evaluation guards passed." : "Warnings:\n" + warnings.map { "- " + $0 }.joined(separator: "\n"))
    return lines.joined(separator: "\n")
  }

  /// `attack,norm,epsilon,accuracy` rows of every curve.
  public var curveCSV: String {
    (["attack,norm,epsilon,accuracy"] + results.flatMap { r in r.curve.map { "\(r.attack),\(r.norm),\($0.epsilon),\($0.accuracy)" } })
      .joined(separator: "\n") + "\n"
  }

  /// `attack,index,norm_size` rows: every example's minimal size (`inf` where the attack failed).
  public var normsCSV: String {
    (["attack,index,size"] + results.flatMap { r in
      r.norms.enumerated().map { "\(r.attack),\($0.offset),\($0.element.map { "\($0)" } ?? "inf")" }
    }).joined(separator: "\n") + "\n"
  }
}
