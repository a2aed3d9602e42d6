import Foundation
import PixelAttacks
import PixelImaging
import PixelTensor

/// Accuracy-versus-ε curves of minimal attacks (from their per-example minimal sizes) and bounded
/// attacks (robust accuracy at each ε they ran at), as one plot and files.
public enum AttackCurves {
  /// Writes `report.json`, `report.md`, `curve.csv`, `norms.csv` and `curve.png` into `folder`,
  /// then `manifest.json` naming them with `identity`; returns the Markdown.
  @discardableResult
  public static func write(_ report: MinimalAttackReport, title: String, identity: [String: String] = [:],
                           to folder: URL) throws -> String {
    try AtomicFile.writeJSON(report, to: folder.appendingPathComponent("report.json"))
    try AtomicFile.write(Data(report.markdown.utf8), to: folder.appendingPathComponent("report.md"))
    try AtomicFile.write(Data(report.curveCSV.utf8), to: folder.appendingPathComponent("curve.csv"))
    try AtomicFile.write(Data(report.normsCSV.utf8), to: folder.appendingPathComponent("norms.csv"))
    try plot(minimal: report.results, title: title).write(to: folder.appendingPathComponent("curve.png"))
    try FolderManifest.write(folder: folder, files: ["report.json", "report.md", "curve.csv", "norms.csv", "curve.png"],
                             identity: identity.merging(["title": title]) { a, _ in a })
    return report.markdown
  }

  /// One line per minimal attack (its implied curve) and per bounded attack (its robust accuracy
  /// at each ε), accuracy in percent. Curves of different norms belong on different plots; the
  /// x label names the norms present.
  public static func plot(minimal: [MinimalAttackResult], bounded: [AttackResult] = [], title: String) -> Canvas {
    var series = minimal.map { r in
      LinePlot.Series(name: r.attack + (r.maskFraction < 1 ? String(format: " mask %.0f%%", r.maskFraction * 100) : ""),
                      points: r.curve.map { ($0.epsilon, $0.accuracy * 100) })
    }
    var keys: [String] = []
    for r in bounded {
      let key = r.attack + (r.maskFraction < 1 ? String(format: " mask %.0f%%", r.maskFraction * 100) : "")
      if !keys.contains(key) { keys.append(key) }
    }
    for key in keys {
      let rows = bounded.filter { $0.attack + ($0.maskFraction < 1 ? String(format: " mask %.0f%%", $0.maskFraction * 100) : "") == key }
      series.append(LinePlot.Series(name: key, points: rows.sorted { $0.epsilon < $1.epsilon }.map { ($0.epsilon, $0.robustAccuracy * 100) }))
    }
    var norms: [String] = []
    for n in minimal.map(\.norm) + bounded.map(\.norm) where !norms.contains(n) { norms.append(n) }
    return LinePlot(title: title, xLabel: "ε (" + norms.joined(separator: ", ") + ")", yLabel: "accuracy (%)",
                    series: series, yRange: 0...100).render()
  }
}
