import Foundation
import PixelAttacks
import PixelData
import PixelImaging
import PixelNN
import PixelTensor

/// Transferred attacks (Ross & Doshi-Velez 2018, Fig. 3): adversarial examples crafted on each
/// source model, in inference mode, classified by every target model (the source included).
/// Cell (s, t) at ε is the target's accuracy on examples made against the source; the diagonal
/// is the white-box robust accuracy, and each source's white-box run keeps its guarded report.
public struct TransferMatrix: Codable, Sendable {
  /// One cell (a row of `matrix.json`'s `cells`).
  public struct Cell: Codable, Sendable, Equatable {
    /// JSON `source`, `target`: the models' names as given.
    public var source: String
    public var target: String
    /// JSON `epsilon`: the budget in pixel units.
    public var epsilon: Double
    /// JSON `accuracy`: the target's accuracy on the source's adversarial examples, in [0, 1].
    public var accuracy: Double
  }

  /// JSON `models`: sources and targets, in order.
  public var models: [String]
  /// JSON `data`: the data set's name.
  public var data: String
  /// JSON `attack`, `norm`, `targeted`: how the examples were crafted.
  public var attack: String
  public var norm: String
  public var targeted: Bool
  /// JSON `epsilons`.
  public var epsilons: [Double]
  /// JSON `cleanAccuracy`: each model's accuracy without attack, by name.
  public var cleanAccuracy: [String: Double]
  /// JSON `cells`: every source × target × ε.
  public var cells: [Cell]
  /// JSON `whiteBox`: each source's own guarded attack report.
  public var whiteBox: [AttackReport]

  /// Crafts with `attack` on each of `models` and classifies the examples with all of them.
  /// - Parameters:
  ///   - progress: a line per source and ε.
  ///   - imagesDone: after every batch, the images done in the current pass and the total.
  /// - Throws: ``AttackError`` for an unusable ε.
  public static func run(models: [(name: String, model: Model)], data: Dataset, attack: any BoundedAttack, norm: Norm,
                         epsilons: [Float], targeted: Bool, runner: AttackRunner,
                         progress: (String) -> Void = { _ in }, imagesDone: (Int, Int) -> Void = { _, _ in }) throws -> TransferMatrix {
    let parts = try Counts.measure(models: models, data: data, probe: data, attack: attack, norm: norm, epsilons: epsilons,
                                   targeted: targeted, runner: runner, progress: progress, imagesDone: imagesDone)
    return TransferMatrix(parts, models: models.map(\.name), data: data.name, attack: attack.name, norm: norm, epsilons: epsilons,
                          targeted: targeted)
  }

  /// What a matrix is computed from, per source model: the white-box per-example outcomes and,
  /// per ε and target, how many adversarial examples the target still classified correctly.
  /// Counts of consecutive parts of a data set add up to the single run's. JSON keys are the
  /// property names.
  public struct Counts: Codable, Sendable, Equatable {
    public struct Source: Codable, Sendable, Equatable {
      public var whiteBox: AttackOutcomeSet
      /// `correct[e][t]`: target `t`'s correct classifications at ε number `e` (the source's own column unused).
      public var correct: [[Int]]
      /// Whether the source answers differently to the same input (its report's guard).
      public var randomized: Bool
    }
    public var sources: [Source]

    /// Crafts on each model of `models` over `data` and counts the targets' correct answers.
    /// - Parameters:
    ///   - first: the global index of `data`'s first example (a shard's offset).
    ///   - probe: the whole data set, whose first images tell whether a model is randomized.
    public static func measure(models: [(name: String, model: Model)], data: Dataset, first: Int = 0, probe: Dataset,
                               attack: any BoundedAttack, norm: Norm, epsilons: [Float], targeted: Bool, runner: AttackRunner,
                               progress: (String) -> Void = { _ in }, imagesDone: (Int, Int) -> Void = { _, _ in }) throws -> Counts {
      var sources: [Source] = []
      for (source, sourceModel) in models {
        var correct = [[Int]](repeating: [Int](repeating: 0, count: models.count), count: epsilons.count)
        let outcomes = try AttackOutcomeSet.run(
          [attack], model: sourceModel, data: data, first: first, norm: norm, epsilons: epsilons, mask: nil, targeted: targeted,
          runner: runner, progress: { progress("\(source): " + $0) }, imagesDone: imagesDone,
          onBatch: { eps, _, xAdv, labels in
            guard let e = epsilons.firstIndex(of: eps) else { return }
            for (t, target) in models.enumerated() where target.name != source {
              let predicted = target.model.withMode(.inference) { withoutGradients { target.model(xAdv).argmax(alongAxis: 1) } }
              correct[e][t] += zip(predicted, labels).filter { $0 == $1 }.count
            }
          })
        sources.append(Source(whiteBox: outcomes, correct: correct, randomized: AttackReport.isRandomized(sourceModel, data: probe)))
      }
      return Counts(sources: sources)
    }

    /// The counts of consecutive parts, in order.
    /// - Precondition: the parts are of the same models, attack and budgets.
    public static func adding(_ parts: [Counts]) -> Counts {
      Counts(sources: parts[0].sources.indices.map { s in
        var source = parts[0].sources[s]
        source.whiteBox = .concatenating(parts.map { $0.sources[s].whiteBox })
        for p in parts.dropFirst() {
          for e in source.correct.indices { for t in source.correct[e].indices { source.correct[e][t] += p.sources[s].correct[e][t] } }
        }
        return source
      })
    }
  }

  /// The accuracy of `target` on examples crafted against `source` at `epsilon`.
  public func accuracy(source: String, target: String, epsilon: Double) -> Double? {
    cells.first { $0.source == source && $0.target == target && $0.epsilon == epsilon }?.accuracy
  }

  /// A Markdown table per ε (rows: source, columns: target), then every white-box warning.
  public var markdown: String {
    let pct = { (v: Double) in String(format: "%.2f%%", v * 100) }
    var lines = ["### Transferred \(attack)\(targeted ? " (targeted)" : "") \(norm) on \(data)", "",
                 "Rows craft the examples, columns classify them; the diagonal is the white-box accuracy.",
                 "Clean: " + models.map { "\($0) \(pct(cleanAccuracy[$0] ?? .nan))" }.joined(separator: ", ") + "."]
    for eps in epsilons {
      lines += ["", "#### ε = \(eps)", "", "| source \\ target | " + models.joined(separator: " | ") + " |",
                "|---|" + models.map { _ in "---" }.joined(separator: "|") + "|"]
      for s in models {
        lines.append("| \(s) | " + models.map { t in accuracy(source: s, target: t, epsilon: eps).map(pct) ?? "–" }
          .joined(separator: " | ") + " |")
      }
    }
    let warnings = whiteBox.flatMap { r in r.warnings.map { "\(r.model): \($0)" } }
    lines += ["", warnings.isEmpty ? "All evaluation guards passed." : "Warnings:\n" + warnings.map { "- " + $0 }.joined(separator: "\n")]
    return lines.joined(separator: "\n") + "\n"
  }

  /// CSV: source, target, epsilon, accuracy.
  public var csv: String {
    (["source,target,epsilon,accuracy"] + cells.map { "\($0.source),\($0.target),\($0.epsilon),\($0.accuracy)" })
      .joined(separator: "\n") + "\n"
  }

  /// One source × target accuracy grid per ε on a shared 0–100 % scale, values written in the cells.
  public func heatmap() -> Canvas {
    let cell = 56, margin = 8
    let tiles = epsilons.map { eps -> (canvas: Canvas, caption: String) in
      var c = Canvas(width: cell * models.count, height: cell * models.count)
      for (i, s) in models.enumerated() {
        for (j, t) in models.enumerated() {
          let a = accuracy(source: s, target: t, epsilon: eps) ?? 0
          c.fill(x: j * cell, y: i * cell, width: cell, height: cell, color: Colormap.viridis.color(a))
          c.text(String(format: "%.0f", a * 100), centeredAt: j * cell + cell / 2, y: i * cell + cell / 2 - 3,
                 color: a > 0.6 ? .black : .white)
        }
      }
      return (c, "eps \(eps)")
    }
    let grid = Heatmap.grid(tiles, columns: Swift.min(3, tiles.count), title: "accuracy %: rows craft, columns classify")
    let legend = models.enumerated().map { "\($0.offset + 1) \($0.element)" }.joined(separator: "  ")
    var out = Canvas(width: Swift.max(grid.width, BitmapFont.width(legend) + 2 * margin), height: grid.height + 16)
    out.draw(grid, x: 0, y: 0)
    out.text(legend, x: margin, y: grid.height + 4)
    return out
  }

  /// Writes `matrix.json`, `matrix.csv`, `matrix.md` and `matrix.png` into `folder`, then its
  /// manifest naming them and the files `alongside` (written before) with `identity` (by
  /// default the models, attack and data); returns the Markdown.
  @discardableResult
  public func write(to folder: URL, identity: [String: String]? = nil, alongside: [String] = []) throws -> String {
    try AtomicFile.writeJSON(self, to: folder.appendingPathComponent("matrix.json"))
    try AtomicFile.write(Data(csv.utf8), to: folder.appendingPathComponent("matrix.csv"))
    try AtomicFile.write(Data(markdown.utf8), to: folder.appendingPathComponent("matrix.md"))
    try heatmap().write(to: folder.appendingPathComponent("matrix.png"))
    try FolderManifest.write(folder: folder, files: ["matrix.json", "matrix.csv", "matrix.md", "matrix.png"] + alongside,
                             identity: identity ?? ["models": models.joined(separator: ","), "attack": attack, "data": data])
    return markdown
  }
}

extension TransferMatrix {
  /// The matrix of `counts` (of a whole data set, or the added parts of one).
  public init(_ counts: Counts, models: [String], data: String, attack: String, norm: Norm, epsilons: [Float], targeted: Bool) {
    var cells: [Cell] = [], whiteBox: [AttackReport] = []
    for (source, part) in zip(models, counts.sources) {
      let report = AttackReport(part.whiteBox, model: source, data: data, randomized: part.randomized)
      whiteBox.append(report)
      let count = report.results.first?.count ?? 0
      for (e, eps) in epsilons.enumerated() {
        let key = eps.decimal
        let own = report.results.first { $0.epsilon == key }
        for (t, target) in models.enumerated() {
          let accuracy = target == source ? (own?.robustAccuracy ?? .nan) : Double(part.correct[e][t]) / Double(Swift.max(count, 1))
          cells.append(Cell(source: source, target: target, epsilon: key, accuracy: accuracy))
        }
      }
    }
    let clean = Dictionary(uniqueKeysWithValues: zip(models, whiteBox.map { $0.results.first?.cleanAccuracy ?? .nan }))
    self.init(models: models, data: data, attack: attack, norm: norm.rawValue, targeted: targeted, epsilons: epsilons.map { $0.decimal },
              cleanAccuracy: clean, cells: cells, whiteBox: whiteBox)
  }
}
