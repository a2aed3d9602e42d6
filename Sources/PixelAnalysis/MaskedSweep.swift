import Foundation
import PixelAttacks
import PixelData
import PixelImaging
import PixelMasks
import PixelNN
import PixelTensor

/// Robust accuracy when the attack may change only the top-k %, bottom-k % or a random k % of
/// the pixels of a gradient map, for several k: the table behind "are high-gradient pixels
/// really the fragile ones?".
public struct MaskedSweep {
  public enum Kind: String, CaseIterable, Codable, Sendable { case top, bottom, random }

  /// One cell of the table (a row of `table.json`, keys as named). Random masks report the
  /// mean and sample standard deviation over seeds.
  public struct Row: Codable, Sendable {
    /// JSON `attack`: the attack's name (`pgd-10`).
    public var attack: String?
    /// JSON `epsilon`: the budget in pixel units.
    public var epsilon: Double?
    /// JSON `kind`: `top`, `bottom` or `random`.
    public var kind: String
    /// JSON `percent`: k, the share of pixels the attack may change.
    public var percent: Double
    /// JSON `maskPixels`: the pixels in the mask.
    public var maskPixels: Int
    /// JSON `cleanAccuracy`, `robustAccuracy`, `robustAccuracyStd`: in [0, 1].
    public var cleanAccuracy: Double
    public var robustAccuracy: Double
    public var robustAccuracyStd: Double
    /// JSON `seeds`: random masks drawn (1 for top and bottom).
    public var seeds: Int
    /// JSON `maxOffMaskChange`: largest |x_adv − x| off the mask; exactly 0 unless something is broken.
    public var maxOffMaskChange: Double
  }

  public var kinds: [Kind]
  public var percents: [Double]
  /// Random masks per k (seeds `runner.seed + s`).
  public var randomSeeds: Int

  /// A sweep over `kinds` × `percents`.
  public init(kinds: [Kind], percents: [Double], randomSeeds: Int = 3) {
    self.kinds = kinds
    self.percents = percents
    self.randomSeeds = randomSeeds
  }

  /// Runs the sweep with `attack` at `epsilon` in `norm`.
  public func run(model: Model, data: Dataset, map: Tensor, attack: any BoundedAttack, norm: Norm, epsilon: Float,
                  runner: AttackRunner, progress: (String) -> Void = { _ in }) throws -> [Row] {
    try run(model: model, data: data, map: map, attacks: [attack], norm: norm, epsilons: [epsilon], runner: runner,
            progress: progress)
  }

  /// Runs the sweep for every attack of `attacks` at every ε of `epsilons` in `norm`.
  /// - Parameter imagesDone: after every batch, images done in the current cell and the total.
  public func run(model: Model, data: Dataset, map: Tensor, attacks: [any BoundedAttack], norm: Norm, epsilons: [Float],
                  runner: AttackRunner, progress: (String) -> Void = { _ in },
                  imagesDone: (Int, Int) -> Void = { _, _ in }) throws -> [Row] {
    Self.rows(try outcomes(model: model, data: data, map: map, attacks: attacks, norm: norm, epsilons: epsilons, runner: runner,
                           progress: progress, imagesDone: imagesDone))
  }

  /// One cell's per-example outcomes: one ``AttackOutcomes`` per mask drawn (one for top and
  /// bottom, `randomSeeds` for random). JSON keys are the property names.
  public struct CellOutcomes: Codable, Sendable, Equatable {
    public var attack: String
    public var epsilon: Double
    public var kind: Kind
    public var percent: Double
    public var maskPixels: Int
    public var masks: [AttackOutcomes]
  }

  /// Runs every cell on `data`, recording each example's outcome.
  /// - Parameter first: the global index of `data`'s first example (a shard's offset).
  public func outcomes(model: Model, data: Dataset, first: Int = 0, map: Tensor, attacks: [any BoundedAttack], norm: Norm,
                       epsilons: [Float], runner: AttackRunner, progress: (String) -> Void = { _ in },
                       imagesDone: (Int, Int) -> Void = { _, _ in }) throws -> [CellOutcomes] {
    let (c, h, w) = (data.imageShape[0], data.imageShape[1], data.imageShape[2])
    let (mh, mw, _) = PixelMask.pixelValues(map)
    guard mh == h, mw == w else { throw AttackError.maskShape(expected: [h, w], got: [mh, mw]) }
    var cells: [CellOutcomes] = []
    for epsilon in epsilons {
      for attack in attacks {
        for kind in kinds {
          for k in percents {
            let seeds = kind == .random ? Swift.max(1, randomSeeds) : 1
            var masks: [AttackOutcomes] = []
            var pixels = 0
            for s in 0..<seeds {
              let mask: PixelMask
              switch kind {
              case .top: mask = .top(k, of: map)
              case .bottom: mask = .bottom(k, of: map)
              case .random: mask = .random(k, height: h, width: w, seed: runner.seed &+ UInt64(s))
              }
              progress("\(attack.name) ε = \(epsilon): \(kind.rawValue) \(k)%\(seeds > 1 ? " seed \(s)" : "")")
              let threat = try ThreatModel(norm: norm, epsilon: epsilon, mask: mask.tensor(channels: c))
              masks.append(runner.outcomes(attack, model: model, data: data, first: first, threat: threat, progress: imagesDone))
              pixels = mask.count
            }
            cells.append(CellOutcomes(attack: attack.name, epsilon: epsilon.decimal, kind: kind, percent: k, maskPixels: pixels,
                                      masks: masks))
          }
        }
      }
    }
    return cells
  }

  /// The table of `cells` (of a whole data set, or the concatenated parts of one): per cell the
  /// mean and sample standard deviation of the robust accuracy over its masks.
  public static func rows(_ cells: [CellOutcomes]) -> [Row] {
    cells.map { cell in
      let results = cell.masks.map(AttackResult.init)
      let (mean, std) = meanAndStandardDeviation(results.map(\.robustAccuracy))
      return Row(attack: cell.attack, epsilon: cell.epsilon, kind: cell.kind.rawValue, percent: cell.percent,
                 maskPixels: cell.maskPixels, cleanAccuracy: results.last?.cleanAccuracy ?? 0, robustAccuracy: mean,
                 robustAccuracyStd: std, seeds: cell.masks.count, maxOffMaskChange: results.map(\.maxOffMaskChange).max() ?? 0)
    }
  }

  /// Writes `table.json`, `table.csv`, `table.md` (one table per attack and ε) and `plot.png`
  /// into `folder`, then `manifest.json` naming them and the files `alongside` (written before)
  /// with `identity`; returns the Markdown.
  @discardableResult
  public static func write(_ rows: [Row], title: String, identity: [String: String] = [:], alongside: [String] = [],
                           to folder: URL) throws -> String {
    try AtomicFile.writeJSON(rows, to: folder.appendingPathComponent("table.json"))
    try AtomicFile.write(Data(csv(rows).utf8), to: folder.appendingPathComponent("table.csv"))
    let md = markdown(rows, title: title)
    try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("table.md"))
    try plot(rows, title: title).write(to: folder.appendingPathComponent("plot.png"))
    try FolderManifest.write(folder: folder, files: ["table.json", "table.csv", "table.md", "plot.png"] + alongside,
                             identity: identity.merging(["title": title]) { a, _ in a })
    return md
  }

  /// CSV with a header line.
  public static func csv(_ rows: [Row]) -> String {
    (["attack,epsilon,kind,percent,mask_pixels,clean_accuracy,robust_accuracy,robust_accuracy_std,seeds,max_off_mask_change"]
     + rows.map { "\($0.attack ?? ""),\($0.epsilon.map { "\($0)" } ?? ""),\($0.kind),\($0.percent),\($0.maskPixels),\($0.cleanAccuracy),\($0.robustAccuracy),\($0.robustAccuracyStd),\($0.seeds),\($0.maxOffMaskChange)" })
      .joined(separator: "\n") + "\n"
  }

  /// The (attack, ε) settings of `rows` in order of first appearance.
  static func settings(_ rows: [Row]) -> [String] {
    var seen = Set<String>()
    return rows.map(setting).filter { seen.insert($0).inserted }
  }

  static func setting(_ r: Row) -> String {
    [r.attack, r.epsilon.map { "eps=\($0)" }].compactMap { $0 }.joined(separator: " ")
  }

  /// Markdown: per attack and ε, a table with one row per k and one column per kind.
  public static func markdown(_ rows: [Row], title: String) -> String {
    let groups = settings(rows)
    var lines = ["### \(title)"]
    for group in groups {
      let cellsOfGroup = rows.filter { setting($0) == group }
      let kinds = orderedKinds(cellsOfGroup)
      let percents = Array(Set(cellsOfGroup.map(\.percent))).sorted()
      if groups.count > 1 { lines += ["", "#### \(group)"] }
      lines += ["", "| k (% of pixels) | " + kinds.map { "\($0)-k accuracy" }.joined(separator: " | ") + " |",
                "|---|" + kinds.map { _ in "---" }.joined(separator: "|") + "|"]
      for k in percents {
        let cells = kinds.map { kind -> String in
          guard let r = cellsOfGroup.first(where: { $0.kind == kind && $0.percent == k }) else { return "–" }
          let std = r.seeds > 1 ? String(format: " ± %.2f", r.robustAccuracyStd * 100) : ""
          return String(format: "%.2f%%", r.robustAccuracy * 100) + std
        }
        lines.append("| \(k.formatted()) | " + cells.joined(separator: " | ") + " |")
      }
    }
    if let clean = rows.first?.cleanAccuracy { lines += ["", String(format: "Clean accuracy: %.2f%%.", clean * 100)] }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Accuracy against k, one line per kind (and per attack and ε when there are several).
  public static func plot(_ rows: [Row], title: String) -> Canvas {
    let groups = settings(rows)
    let series = groups.flatMap { group in
      orderedKinds(rows.filter { setting($0) == group }).map { kind in
        LinePlot.Series(name: groups.count > 1 ? "\(kind)-k \(group)" : "\(kind)-k",
                        points: rows.filter { $0.kind == kind && setting($0) == group }.map { ($0.percent, $0.robustAccuracy * 100) })
      }
    }
    return LinePlot(title: title, xLabel: "k: % of pixels the attack may change", yLabel: "robust accuracy (%)",
                    series: series, yRange: 0...100).render()
  }
}

/// The kinds in order of first appearance.
private func orderedKinds(_ rows: [MaskedSweep.Row]) -> [String] {
  var seen = Set<String>()
  return rows.map(\.kind).filter { seen.insert($0).inserted }
}

extension Double {
  func formatted() -> String { self == rounded() ? String(Int(self)) : String(self) }
}
