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
    let curves = Curve.of(minimal: minimal, label: nil) + Curve.of(bounded: bounded, label: nil)
    return render(curves, title: title)
  }

  /// One named line: accuracy against ε in one norm.
  public struct Curve: Sendable {
    public var name: String
    public var norm: String
    public var points: [(epsilon: Double, accuracy: Double)]

    /// A curve named `name` in `norm` through `points` (accuracy as a fraction).
    public init(name: String, norm: String, points: [(epsilon: Double, accuracy: Double)]) {
      self.name = name; self.norm = norm; self.points = points
    }

    static func name(_ attack: String, maskFraction: Double, label: String?) -> String {
      (label.map { $0 + ": " } ?? "") + attack + (maskFraction < 1 ? String(format: " mask %.0f%%", maskFraction * 100) : "")
    }

    /// The curves minimal results imply.
    static func of(minimal: [MinimalAttackResult], label: String?) -> [Curve] {
      minimal.map { r in
        Curve(name: name(r.attack, maskFraction: r.maskFraction, label: label), norm: r.norm,
              points: r.curve.map { ($0.epsilon, $0.accuracy) })
      }
    }

    /// One curve per bounded attack (and mask) over the ε it ran at.
    static func of(bounded: [AttackResult], label: String?) -> [Curve] {
      var keys: [String] = []
      for r in bounded where !keys.contains(name(r.attack, maskFraction: r.maskFraction, label: label)) {
        keys.append(name(r.attack, maskFraction: r.maskFraction, label: label))
      }
      return keys.map { key in
        let rows = bounded.filter { name($0.attack, maskFraction: $0.maskFraction, label: label) == key }.sorted { $0.epsilon < $1.epsilon }
        return Curve(name: key, norm: rows[0].norm, points: rows.map { ($0.epsilon, $0.robustAccuracy) })
      }
    }
  }

  /// A plot of `curves` (accuracy in percent); the x label names their norms.
  static func render(_ curves: [Curve], title: String) -> Canvas {
    var norms: [String] = []
    for c in curves where !norms.contains(c.norm) { norms.append(c.norm) }
    return LinePlot(title: title, xLabel: "ε (" + norms.joined(separator: ", ") + ")", yLabel: "accuracy (%)",
                    series: curves.map { c in LinePlot.Series(name: c.name, points: c.points.map { ($0.epsilon, $0.accuracy * 100) }) },
                    yRange: 0...100).render()
  }

  /// A report file that cannot be plotted.
  public struct ReadError: Error, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): \(reason)" }
  }

  /// The curves in a report JSON written by `pixelrobust attack --json` (bounded or minimal),
  /// named `label: attack`.
  /// - Throws: ``ReadError`` naming the file when it is neither kind of report.
  public static func curves(in url: URL, label: String) throws -> [Curve] {
    let data = try FileBytes.read(url)
    if let minimal = try? JSONDecoder().decode(MinimalAttackReport.self, from: data) {
      return Curve.of(minimal: minimal.results, label: label)
    }
    if let bounded = try? JSONDecoder().decode(AttackReport.self, from: data) {
      return Curve.of(bounded: bounded.results, label: label)
    }
    throw ReadError(path: url.path, reason: "not an attack report (pixelrobust attack --json)")
  }

  /// Writes one plot per norm, `curves_<norm>.png`, and `curves.csv` (`curve,norm,epsilon,accuracy`)
  /// into `folder`, then `manifest.json`; returns the files written.
  @discardableResult
  public static func write(_ curves: [Curve], title: String, identity: [String: String] = [:], to folder: URL) throws -> [String] {
    var norms: [String] = []
    for c in curves where !norms.contains(c.norm) { norms.append(c.norm) }
    var files: [String] = []
    for norm in norms {
      let file = "curves_\(norm).png"
      try render(curves.filter { $0.norm == norm }, title: title).write(to: folder.appendingPathComponent(file))
      files.append(file)
    }
    let csv = (["curve,norm,epsilon,accuracy"] + curves.flatMap { c in c.points.map { "\(c.name),\(c.norm),\($0.epsilon),\($0.accuracy)" } })
      .joined(separator: "\n") + "\n"
    try AtomicFile.write(Data(csv.utf8), to: folder.appendingPathComponent("curves.csv"))
    files.append("curves.csv")
    try FolderManifest.write(folder: folder, files: files, identity: identity.merging(["title": title]) { a, _ in a })
    return files
  }
}
