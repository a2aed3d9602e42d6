import Foundation
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelNN
import PixelTensor

/// A randomized defense evaluated honestly: the same (EOT) attack repeated over seeds, each
/// adversarial example classified several times with the worst case kept, reported as
/// mean ± std, with the defense rate against an undefended baseline.
public struct DefenseEvaluation: Codable, Sendable {
  public struct Row: Codable, Sendable {
    public var epsilon: Double
    public var cleanAccuracy: Double
    public var robustAccuracyMean: Double
    public var robustAccuracyStd: Double
    public var perSeed: [Double]
    public var baselineClean: Double?
    public var baselineAttacked: Double?
    /// `1 − (clean − defended)/(clean − attacked)` with the baseline's clean and attacked accuracy.
    public var defenseRate: Double?
  }

  public var model: String
  public var baseline: String?
  public var attack: String
  public var seeds: Int
  public var classifications: Int
  public var rows: [Row]
  public var reports: [AttackReport]

  /// Runs `report(seed)` for each seed and, with a baseline, `baselineReport()` once.
  public static func aggregate(model: String, baseline: String?, seeds: Int, classifications: Int,
                               report: (UInt64) throws -> AttackReport, baselineReport: (() throws -> AttackReport)?) rethrows -> DefenseEvaluation {
    let reports = try (0..<seeds).map { try report(UInt64($0)) }
    let base = try baselineReport?()
    let rows = reports[0].results.indices.map { i -> Row in
      let values = reports.map { $0.results[i].robustAccuracy }
      let (mean, std) = meanAndStandardDeviation(values)
      let clean = meanAndStandardDeviation(reports.map { $0.results[i].cleanAccuracy }).mean
      let b = base?.results[i]
      return Row(epsilon: reports[0].results[i].epsilon, cleanAccuracy: clean, robustAccuracyMean: mean, robustAccuracyStd: std,
                 perSeed: values, baselineClean: b?.cleanAccuracy, baselineAttacked: b?.robustAccuracy,
                 defenseRate: b.flatMap { defenseRate(clean: $0.cleanAccuracy, attacked: $0.robustAccuracy, defended: mean) })
    }
    return DefenseEvaluation(model: model, baseline: baseline, attack: reports[0].results.first?.attack ?? "?", seeds: seeds,
                             classifications: classifications, rows: rows, reports: reports)
  }

  public var markdown: String {
    let pct = { (v: Double) in String(format: "%.2f%%", v * 100) }
    var lines = ["\(attack) against \(model): \(seeds) seed(s), each adversarial example classified \(classifications) time(s) (worst case kept).", "",
                 "| ε | clean | robust (mean ± std) | per seed |" + (baseline == nil ? "" : " baseline clean | baseline attacked | defense rate |"),
                 "|---|---|---|---|" + (baseline == nil ? "" : "---|---|---|")]
    for r in rows {
      var line = "| \(r.epsilon) | \(pct(r.cleanAccuracy)) | \(pct(r.robustAccuracyMean)) ± " + String(format: "%.2f", r.robustAccuracyStd * 100)
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
