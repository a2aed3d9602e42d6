import Foundation
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelNN
import PixelTensor

/// A randomized defense evaluated honestly: the same (EOT) attack repeated over seeds, each
/// adversarial example classified several times with the worst case kept, reported as
/// mean ± std, with the defense rate of Hwang et al. (2019) against an undefended baseline.
/// JSON keys are the property names.
public struct DefenseEvaluation: Codable, Sendable {
  /// One attack at one ε, aggregated over seeds (a row of the JSON `rows`).
  public struct Row: Codable, Sendable {
    /// JSON `attack`: the attack's name (`eot8-pgd-20`).
    public var attack: String?
    /// JSON `epsilon`: the budget in pixel units.
    public var epsilon: Double
    /// JSON `cleanAccuracy`: the defended model's clean accuracy, mean over seeds and draws.
    public var cleanAccuracy: Double
    /// JSON `robustAccuracyMean` / `robustAccuracyStd`: robust accuracy (worst of the
    /// classifications) over seeds, mean and sample standard deviation.
    public var robustAccuracyMean: Double
    public var robustAccuracyStd: Double
    /// JSON `perSeed`: robust accuracy of each seed, in seed order.
    public var perSeed: [Double]
    /// JSON `baselineClean` / `baselineAttacked`: the undefended baseline's clean and robust
    /// accuracy under the same attack without EOT (absent without a baseline).
    public var baselineClean: Double?
    public var baselineAttacked: Double?
    /// JSON `defenseRate`: `1 − (clean − defended)/(clean − attacked)` with the baseline's clean
    /// and attacked accuracy (absent when the attack removes nothing from the baseline).
    public var defenseRate: Double?
  }

  /// JSON `model`, `baseline`: the checkpoints' names as given.
  public var model: String
  public var baseline: String?
  /// JSON `attack`: the first attack's name.
  public var attack: String
  /// JSON `seeds`: how many times the whole attack was repeated (seed `s` of `0..<seeds` runs
  /// with the settings' seed `+ s`).
  public var seeds: Int
  /// JSON `classifications`: classifications per adversarial example (worst case kept).
  public var classifications: Int
  /// JSON `rows`: one per attack and ε.
  public var rows: [Row]
  /// JSON `reports`: the full attack report of every seed.
  public var reports: [AttackReport]

  /// Attacks `model` with `settings` once per seed (seed `settings.seed + s`), each adversarial
  /// example classified `settings.classifications` times, and `baseline` once with the same
  /// attack without EOT and classified once.
  /// - Parameters:
  ///   - progress: a line per seed, attack and ε.
  ///   - imagesDone: after every batch, images done in the current attack and ε, and the total.
  /// - Throws: ``AttackError`` for unusable settings or mask.
  public static func run(_ settings: AttackSettings, model: Model, modelName: String, data: Dataset, mask: Tensor?,
                         seeds: Int, baseline: (model: Model, name: String)?, progress: (String) -> Void = { _ in },
                         imagesDone: (Int, Int) -> Void = { _, _ in }) throws -> DefenseEvaluation {
    precondition(seeds >= 1, "repeat the attack at least once")
    let attacks = try settings.attacks()
    let reports = try (0..<seeds).map { s -> AttackReport in
      var seeded = settings
      seeded.seed = settings.seed &+ UInt64(s)
      progress("seed \(seeded.seed)")
      return try AttackReport.evaluate(attacks, model: model, modelName: modelName, data: data, norm: settings.norm,
                                       epsilons: settings.epsilons, mask: mask, targeted: settings.targeted,
                                       runner: seeded.runner, progress: { progress("  " + $0) }, imagesDone: imagesDone)
    }
    let base = try baseline.map { b -> AttackReport in
      progress("baseline \(b.name)")
      let plain = settings.deterministic
      return try AttackReport.evaluate(try plain.attacks(), model: b.model, modelName: b.name, data: data, norm: settings.norm,
                                       epsilons: settings.epsilons, mask: mask, targeted: settings.targeted,
                                       runner: plain.runner, progress: { progress("  " + $0) }, imagesDone: imagesDone)
    }
    return aggregate(model: modelName, baseline: baseline?.name, classifications: settings.classifications,
                     reports: reports, baselineReport: base)
  }

  /// Aggregates per-seed reports (equal layouts) and an optional baseline report (same attacks
  /// and ε without EOT) into rows.
  public static func aggregate(model: String, baseline: String?, classifications: Int, reports: [AttackReport],
                               baselineReport base: AttackReport?) -> DefenseEvaluation {
    precondition(!reports.isEmpty, "aggregate at least one report")
    let rows = reports[0].results.indices.map { i -> Row in
      let values = reports.map { $0.results[i].robustAccuracy }
      let (mean, std) = meanAndStandardDeviation(values)
      let clean = meanAndStandardDeviation(reports.map { $0.results[i].cleanAccuracy }).mean
      let b = base.flatMap { $0.results.indices.contains(i) ? $0.results[i] : nil }
      return Row(attack: reports[0].results[i].attack, epsilon: reports[0].results[i].epsilon, cleanAccuracy: clean,
                 robustAccuracyMean: mean, robustAccuracyStd: std, perSeed: values, baselineClean: b?.cleanAccuracy,
                 baselineAttacked: b?.robustAccuracy,
                 defenseRate: b.flatMap { defenseRate(clean: $0.cleanAccuracy, attacked: $0.robustAccuracy, defended: mean) })
    }
    return DefenseEvaluation(model: model, baseline: baseline, attack: reports[0].results.first?.attack ?? "?",
                             seeds: reports.count, classifications: classifications, rows: rows, reports: reports)
  }

  public var markdown: String {
    let pct = { (v: Double) in String(format: "%.2f%%", v * 100) }
    var lines = ["\(attack) against \(model): \(seeds) seed(s), each adversarial example classified \(classifications) time(s) (worst case kept).", "",
                 "| attack | ε | clean | robust (mean ± std) | per seed |" + (baseline == nil ? "" : " baseline clean | baseline attacked | defense rate |"),
                 "|---|---|---|---|---|" + (baseline == nil ? "" : "---|---|---|")]
    for r in rows {
      var line = "| \(r.attack ?? attack) | \(r.epsilon) | \(pct(r.cleanAccuracy)) | \(pct(r.robustAccuracyMean)) ± " + String(format: "%.2f", r.robustAccuracyStd * 100)
        + " | " + r.perSeed.map(pct).joined(separator: ", ") + " |"
      if baseline != nil {
        line += " \(r.baselineClean.map(pct) ?? "–") | \(r.baselineAttacked.map(pct) ?? "–") | "
          + (r.defenseRate.map { String(format: "%.3f", $0) } ?? "–") + " |"
      }
      lines.append(line)
    }
    let warnings = Set(reports.flatMap(\.warnings)).sorted()
    lines.append("")
    lines.append(warnings.isEmpty ? "All evaluation guards passed." : "Warnings:\n" + warnings.map { "- " + $0 }.joined(separator: "\n"))
    return lines.joined(separator: "\n")
  }
}
