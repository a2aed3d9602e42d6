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

  /// One cell of the table. Random masks report the mean and standard deviation over seeds.
  public struct Row: Codable, Sendable {
    public var kind: String
    public var percent: Double
    public var maskPixels: Int
    public var cleanAccuracy: Double
    public var robustAccuracy: Double
    public var robustAccuracyStd: Double
    public var seeds: Int
    public var maxOffMaskChange: Double
  }

  public var kinds: [Kind]
  public var percents: [Double]
  public var randomSeeds: Int

  public init(kinds: [Kind], percents: [Double], randomSeeds: Int = 3) {
    self.kinds = kinds
    self.percents = percents
    self.randomSeeds = randomSeeds
  }

  /// Runs the sweep with `attack` at `epsilon` in `norm`.
  public func run(model: Model, data: Dataset, map: Tensor, attack: any BoundedAttack, norm: Norm, epsilon: Float,
                  runner: AttackRunner, progress: (String) -> Void = { _ in }) throws -> [Row] {
    let (c, h, w) = (data.imageShape[0], data.imageShape[1], data.imageShape[2])
    var rows: [Row] = []
    for kind in kinds {
      for k in percents {
        let seeds = kind == .random ? Swift.max(1, randomSeeds) : 1
        var accuracies: [Double] = []
        var clean = 0.0, offMask = 0.0, pixels = 0
        for s in 0..<seeds {
          let mask: PixelMask
          switch kind {
          case .top: mask = .top(k, of: map)
          case .bottom: mask = .bottom(k, of: map)
          case .random: mask = .random(k, height: h, width: w, seed: runner.seed &+ UInt64(s))
          }
          progress("\(kind.rawValue) \(k)%\(seeds > 1 ? " seed \(s)" : "")")
          let threat = try ThreatModel(norm: norm, epsilon: epsilon, mask: mask.tensor(channels: c))
          let r = runner.run(attack, model: model, data: data, threat: threat)
          accuracies.append(r.robustAccuracy)
          clean = r.cleanAccuracy
          offMask = Swift.max(offMask, r.maxOffMaskChange)
          pixels = mask.count
        }
        let (mean, std) = meanAndStandardDeviation(accuracies)
        rows.append(Row(kind: kind.rawValue, percent: k, maskPixels: pixels, cleanAccuracy: clean, robustAccuracy: mean,
                        robustAccuracyStd: std, seeds: seeds, maxOffMaskChange: offMask))
      }
    }
    return rows
  }

  /// CSV with a header line.
  public static func csv(_ rows: [Row]) -> String {
    (["kind,percent,mask_pixels,clean_accuracy,robust_accuracy,robust_accuracy_std,seeds,max_off_mask_change"]
     + rows.map { "\($0.kind),\($0.percent),\($0.maskPixels),\($0.cleanAccuracy),\($0.robustAccuracy),\($0.robustAccuracyStd),\($0.seeds),\($0.maxOffMaskChange)" })
      .joined(separator: "\n") + "\n"
  }

  /// A Markdown table: one row per k, one column per kind.
  public static func markdown(_ rows: [Row], title: String) -> String {
    let kinds = orderedKinds(rows)
    let percents = Array(Set(rows.map(\.percent))).sorted()
    var lines = ["### \(title)", "", "| k (% of pixels) | " + kinds.map { "\($0)-k accuracy" }.joined(separator: " | ") + " |",
                 "|---|" + kinds.map { _ in "---" }.joined(separator: "|") + "|"]
    for k in percents {
      let cells = kinds.map { kind -> String in
        guard let r = rows.first(where: { $0.kind == kind && $0.percent == k }) else { return "–" }
        let std = r.seeds > 1 ? String(format: " ± %.2f", r.robustAccuracyStd * 100) : ""
        return String(format: "%.2f%%", r.robustAccuracy * 100) + std
      }
      lines.append("| \(k.formatted()) | " + cells.joined(separator: " | ") + " |")
    }
    if let clean = rows.first?.cleanAccuracy { lines += ["", String(format: "Clean accuracy: %.2f%%.", clean * 100)] }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Accuracy against k, one line per kind.
  public static func plot(_ rows: [Row], title: String) -> Canvas {
    let kinds = orderedKinds(rows)
    let series = kinds.map { kind in
      LinePlot.Series(name: "\(kind)-k", points: rows.filter { $0.kind == kind }.map { ($0.percent, $0.robustAccuracy * 100) })
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
