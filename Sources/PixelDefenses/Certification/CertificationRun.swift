import Foundation
import PixelAnalysis
import PixelData
import PixelImaging
import PixelNN
import PixelTensor

/// Smoothed prediction or certification of a data set at one σ, with per-example rows and a
/// summary: what `pixelrobust smooth predict|certify` runs.
public struct CertificationRun: Codable, Sendable {
  /// What was run.
  public enum Kind: String, Codable, Sendable {
    /// Cohen et al.'s PREDICT (vote, abstain by binomial test) or Nemcovsky et al.'s soft/weighted inference.
    case predict
    /// Cohen et al.'s CERTIFY.
    case certify
  }

  /// One example. JSON keys are the property names.
  public struct Row: Codable, Sendable {
    /// Index in the data set.
    public var index: Int
    /// The true label.
    public var label: Int
    /// The smoothed prediction or certified class; `nil` when abstaining.
    public var prediction: Int?
    /// Certify: the Clopper–Pearson lower bound on the top class's probability.
    public var pLower: Double?
    /// Certify: the certified L2 radius in pixel units (`nil` when abstaining).
    public var radius: Double?
    /// Seconds spent on this example (its batch's time over its size).
    public var seconds: Double
  }

  /// Certified accuracy at one radius.
  public struct RadiusPoint: Codable, Sendable, Equatable {
    public var radius: Double
    /// The share of examples certified correct with a radius ≥ `radius`.
    public var accuracy: Double
  }

  /// The run's settings.
  public struct Settings: Codable, Sendable, Equatable {
    public var kind: Kind
    /// Noise σ in pixel units.
    public var sigma: Double
    /// Predict's aggregation (certify always counts votes).
    public var mode: RandomizedSmoothing.Mode
    /// Predict's draws, certify's estimation draws n.
    public var samples: Int
    /// Certify's selection draws n₀.
    public var selectionSamples: Int
    /// The level α of the test or bound (predict at α = 1: a plain majority vote, no abstention).
    public var alpha: Double
    /// Noisy images per forward pass.
    public var sampleBatch: Int
    /// Images handled together.
    public var batchSize: Int
    /// The noise seed.
    public var seed: UInt64

    /// Settings; ``problem`` checks them.
    public init(kind: Kind, sigma: Double, mode: RandomizedSmoothing.Mode = .vote, samples: Int, selectionSamples: Int = 100,
                alpha: Double = 0.001, sampleBatch: Int = 1024, batchSize: Int = 16, seed: UInt64 = 0) {
      self.kind = kind; self.sigma = sigma; self.mode = mode; self.samples = samples; self.selectionSamples = selectionSamples
      self.alpha = alpha; self.sampleBatch = sampleBatch; self.batchSize = batchSize; self.seed = seed
    }

    /// The first problem with these values, in words, or `nil`.
    public var problem: String? {
      if !(sigma.isFinite && sigma > 0 && sigma <= 10) { return "σ must lie in (0, 10] pixel units, got \(sigma)" }
      if samples < 1 || samples > 10_000_000 { return "the number of samples must lie in 1…10,000,000, got \(samples)" }
      if kind == .certify && (selectionSamples < 1 || selectionSamples > 10_000_000) {
        return "the selection samples must lie in 1…10,000,000, got \(selectionSamples)"
      }
      // Predict at α = 1 never abstains: the plain majority vote of Nemcovsky et al.
      if kind == .certify ? !(alpha > 0 && alpha < 1) : !(alpha > 0 && alpha <= 1) {
        return "α must lie in (0, 1)\(kind == .predict ? " (predict: (0, 1], 1 never abstains)" : ""), got \(alpha)"
      }
      if sampleBatch < 1 || batchSize < 1 { return "the sample batch and batch size must be at least 1" }
      return nil
    }
  }

  /// JSON `settings`.
  public var settings: Settings
  /// JSON `label`: the run's name in a job of several regions (e.g. the mask `top:25`), or absent.
  public var label: String?
  /// JSON `model`, `data`: names as given.
  public var model: String
  public var data: String
  /// The fraction of pixels the noise covers (1 without a mask).
  public var maskFraction: Double
  /// JSON `count`: examples.
  public var count: Int
  /// Correct and not abstaining, over all examples.
  public var accuracy: Double
  /// Abstentions over all examples.
  public var abstainRate: Double
  /// Certify: certified accuracy from radius 0 to the largest radius found.
  public var certified: [RadiusPoint]
  /// Wall-clock seconds per image.
  public var secondsPerImage: Double
  /// JSON `rows`: one per example, in data order.
  public var rows: [Row]

  /// Runs `settings` on every example of `data`, continuing after `done` (the rows of an
  /// interrupted run, a whole number of batches).
  ///
  /// Example `i` draws all its noise from the stream `(settings.seed, first + i)` of
  /// ``SeededGenerator/init(seed:stream:)``: its result depends on the seed and its global index
  /// only, so a resumed run gives the same bytes as an uninterrupted one, and shards merged give
  /// the single run's rows (but for the timing column).
  /// - Parameters:
  ///   - first: the global index of `data`'s first example (a shard's offset).
  ///   - afterBatch: called with all rows so far after every batch (a journal records them).
  ///   - progress: after every batch, the images done and the total.
  public static func run(_ settings: Settings, model: Model, modelName: String, data: Dataset, first: Int = 0, mask: Tensor?,
                         continuing done: [Row] = [], afterBatch: ([Row]) throws -> Void = { _ in },
                         progress: (Int, Int) -> Void = { _, _ in }) rethrows -> CertificationRun {
    precondition(settings.problem == nil, settings.problem ?? "")
    precondition(done.count <= data.count && done.count % settings.batchSize == 0 || done.count == data.count,
                 "a run continues after whole batches")
    let smoothing = RandomizedSmoothing(base: model, sigma: Float(settings.sigma), mode: settings.mode, mask: mask,
                                        sampleBatch: settings.sampleBatch)
    var rows = done
    let started = ContinuousClock.now
    let earlierSeconds = done.reduce(0) { $0 + $1.seconds }
    let rest = data.examples(done.count..<data.count)
    try model.withMode(.inference) {
      for (x, y) in MiniBatches(rest, batchSize: settings.batchSize) {
        let t0 = ContinuousClock.now
        var streams = y.indices.map { SeededGenerator(seed: settings.seed, stream: first + rows.count + $0) }
        var predictions: [Int?] = [], certificates: [Certificate]?
        switch settings.kind {
        case .certify:
          let c = smoothing.certify(x, selectionSamples: settings.selectionSamples, estimationSamples: settings.samples,
                                    alpha: settings.alpha, streams: &streams)
          certificates = c
          predictions = c.map(\.label)
        case .predict:
          predictions = settings.mode == .vote
            ? smoothing.predict(x, samples: settings.samples, alpha: settings.alpha, streams: &streams)
            : smoothing.classify(x, draws: settings.samples, streams: &streams).map { Optional($0) }
        }
        let seconds = (ContinuousClock.now - t0).seconds / Double(y.count)
        for i in y.indices {
          rows.append(Row(index: first + rows.count, label: y[i], prediction: predictions[i], pLower: certificates?[i].pLower,
                          radius: certificates?[i].radius, seconds: seconds))
        }
        try afterBatch(rows)
        progress(rows.count, data.count)
      }
    }
    // Resumed runs count the time of the earlier sessions' batches as recorded in their rows.
    let seconds = earlierSeconds + (ContinuousClock.now - started).seconds
    return CertificationRun(settings: settings, model: modelName, data: data.name,
                            maskFraction: mask.map { Double($0.sum().item) / Double($0.elementCount) } ?? 1, rows: rows,
                            seconds: seconds)
  }

  /// The header of a run's rows file.
  static let rowsHeader = "index,label,prediction,p_lower,radius,abstained,seconds"

  /// `<kind>_sigma<σ>[_<label>].csv`, the run's rows file.
  public var rowsFile: String {
    let suffix = label.map { "_" + String($0.map { $0.isLetter || $0.isNumber ? $0 : "-" }) } ?? ""
    return "\(settings.kind.rawValue)_sigma\(settings.sigma)\(suffix).csv"
  }

  /// The share of examples certified correct with a radius of at least `radius`.
  public func certifiedAccuracy(at radius: Double) -> Double {
    Double(rows.filter { $0.prediction == $0.label && ($0.radius ?? -1) >= radius }.count) / Double(Swift.max(count, 1))
  }

  /// Writes `<kind>_sigma<σ>[_<label>].csv` per run (`index,label,prediction,p_lower,radius,abstained,seconds`),
  /// `summary.json` (the runs without their rows), `summary.md`, and for certification
  /// `certified.png` (certified accuracy against radius, one line per run), then `manifest.json`.
  /// - Parameter radii: the summary table's certified-accuracy columns.
  @discardableResult
  public static func write(_ runs: [CertificationRun], radii: [Double] = [0.25, 0.5, 1.0], title: String,
                           identity: [String: String] = [:], to folder: URL) throws -> String {
    var files: [String] = []
    for r in runs {
      let file = r.rowsFile
      let lines = [rowsHeader] + r.rows.map { row in
        "\(row.index),\(row.label),\(row.prediction.map(String.init) ?? ""),\(row.pLower.map { "\($0)" } ?? ""),"
          + "\(row.radius.map { "\($0)" } ?? ""),\(row.prediction == nil ? 1 : 0),\(row.seconds)"
      }
      try AtomicFile.write(Data((lines.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent(file))
      files.append(file)
    }
    var summaries = runs
    for i in summaries.indices { summaries[i].rows = [] }
    try AtomicFile.writeJSON(summaries, to: folder.appendingPathComponent("summary.json"))
    let md = markdown(runs, radii: radii)
    try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("summary.md"))
    files += ["summary.json", "summary.md"]
    let certifying = runs.filter { $0.settings.kind == .certify }
    if !certifying.isEmpty {
      let series = certifying.map { r in
        // NOTE: the bitmap font has no Greek letters.
        LinePlot.Series(name: "sigma \(r.settings.sigma)" + (r.label.map { " " + $0 } ?? ""),
                        points: r.certified.map { ($0.radius, $0.accuracy * 100) })
      }
      try LinePlot(title: title, xLabel: "L2 radius (pixel units)", yLabel: "certified accuracy (%)", series: series,
                   yRange: 0...100).render().write(to: folder.appendingPathComponent("certified.png"))
      files.append("certified.png")
    }
    try FolderManifest.write(folder: folder, files: files, identity: identity.merging(["title": title]) { a, _ in a })
    return md
  }

  /// A Markdown table, one row per run, with certified accuracy at each of `radii`.
  public static func markdown(_ runs: [CertificationRun], radii: [Double] = [0.25, 0.5, 1.0]) -> String {
    let pct = { (v: Double) in String(format: "%.2f%%", v * 100) }
    let radiusColumns = radii.enumerated().map { $0.offset == 0 ? "certified at \($0.element)" : "\($0.element)" }
    var lines = ["| " + (["run", "σ", "mode", "n", "n₀", "α", "noise on", "accuracy", "abstain"] + radiusColumns + ["s/image"])
                  .joined(separator: " | ") + " |",
                 "|" + String(repeating: "---|", count: 10 + radii.count)]
    for r in runs {
      let s = r.settings
      let certified = radii.map { s.kind == .certify ? pct(r.certifiedAccuracy(at: $0)) : "–" }
      let cells = [r.label ?? s.kind.rawValue, "\(s.sigma)", s.kind == .certify ? "vote" : s.mode.rawValue, "\(s.samples)",
                   s.kind == .certify ? "\(s.selectionSamples)" : "–", "\(s.alpha)", pct(r.maskFraction), pct(r.accuracy),
                   pct(r.abstainRate)] + certified + [String(format: "%.4f", r.secondsPerImage)]
      lines.append("| " + cells.joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

extension CertificationRun {
  /// The certified-accuracy curves of a `summary.json` written by `pixelrobust smooth certify`,
  /// as L2 curves named `label: sigma σ`; `nil` when the file holds something else.
  public static func curves(in url: URL, label: String) throws -> [AttackCurves.Curve]? {
    guard let runs = try? JSONDecoder().decode([CertificationRun].self, from: FileBytes.read(url)) else { return nil }
    return runs.filter { $0.settings.kind == .certify }.map { r in
      AttackCurves.Curve(name: "\(label): certified, sigma \(r.settings.sigma)", norm: "l2",
                         points: r.certified.map { ($0.radius, $0.accuracy) })
    }
  }
}

extension CertificationRun {
  /// A run's summary computed from its rows alone (so merged shards summarise as one run).
  /// - Parameter seconds: the wall-clock time of the run.
  public init(settings: Settings, label: String? = nil, model: String, data: String, maskFraction: Double, rows: [Row],
              seconds: Double) {
    let n = Double(Swift.max(rows.count, 1))
    let correct = rows.filter { $0.prediction == $0.label }
    let top = correct.compactMap(\.radius).max() ?? 0
    let radii = settings.kind == .certify ? stride(from: 0.0, through: top + 1e-12, by: Swift.max(top / 50, 1e-3)).map { $0 } : []
    self.init(settings: settings, label: label, model: model, data: data, maskFraction: maskFraction, count: rows.count,
              accuracy: Double(correct.count) / n, abstainRate: Double(rows.filter { $0.prediction == nil }.count) / n,
              certified: radii.map { r in RadiusPoint(radius: r, accuracy: Double(correct.filter { ($0.radius ?? -1) >= r }.count) / n) },
              secondsPerImage: seconds / n, rows: rows)
  }
}
