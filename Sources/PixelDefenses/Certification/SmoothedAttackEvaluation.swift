import Foundation
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelNN
import PixelTensor

/// Smoothed inference under attack, the way Nemcovsky et al. report it
/// ("Smoothed inference for adversarially-trained models", https://arxiv.org/abs/1911.07198):
/// the base classifier and each smoothed classifier on three sets of images —
/// - **clean**: the test images;
/// - **transfer**: L∞ PGD examples made on the base classifier (non-adaptive);
/// - **EPGD**: L∞ PGD examples made on the smoothed classifier itself (adaptive), each step
///   over `attackSamples` fresh noise draws — with the loss either CE of `log` of the mean
///   softmax over the draws (``AttackLoss/probability``, Salman et al.'s SmoothAdv and the
///   PyTorch anchor) or the mean of the draws' CE gradients (``AttackLoss/expectation``,
///   Nemcovsky et al.'s EPGD: EOT over noise).
///
/// Smoothed accuracies are re-measured `evaluations` times with fresh noise (mean ± sample std),
/// since the prediction is random. The adaptive attack should never do worse than the transfer
/// one; where it does, the report says so (a weak attack or masked gradients), instead of
/// reporting the higher number as robustness.
public struct SmoothedAttackEvaluation: Codable, Sendable {
  /// The loss EPGD ascends.
  public enum AttackLoss: String, Codable, Sendable, CaseIterable {
    case probability, expectation
  }

  /// What is measured. JSON keys are the property names.
  public struct Settings: Codable, Sendable, Equatable {
    /// Noise σ in pixel units.
    public var sigma: Double
    /// Draws m per smoothed prediction.
    public var samples: Int
    /// The smoothed classifiers evaluated.
    public var modes: [RandomizedSmoothing.Mode]
    /// The L∞ budget ε and PGD's steps and step, in pixel units; PGD starts at a random point.
    public var epsilon: Double
    public var steps: Int
    public var stepSize: Double
    /// Noise draws per EPGD step (m_train).
    public var attackSamples: Int
    public var attackLoss: AttackLoss
    /// Re-measurements of each smoothed accuracy.
    public var evaluations: Int
    /// Images per batch and noisy images per forward pass.
    public var batchSize: Int
    public var sampleBatch: Int
    public var seed: UInt64

    /// Settings; ``problem`` checks them.
    public init(sigma: Double, samples: Int = 32, modes: [RandomizedSmoothing.Mode] = [.vote, .soft, .probability],
                epsilon: Double, steps: Int = 20, stepSize: Double, attackSamples: Int = 32, attackLoss: AttackLoss = .probability,
                evaluations: Int = 3, batchSize: Int = 16, sampleBatch: Int = 1024, seed: UInt64 = 0) {
      self.sigma = sigma; self.samples = samples; self.modes = modes; self.epsilon = epsilon; self.steps = steps
      self.stepSize = stepSize; self.attackSamples = attackSamples; self.attackLoss = attackLoss; self.evaluations = evaluations
      self.batchSize = batchSize; self.sampleBatch = sampleBatch; self.seed = seed
    }

    /// The first problem with these values, in words, or `nil`.
    public var problem: String? {
      if !(sigma.isFinite && sigma >= 0 && sigma <= 10) { return "σ must lie in [0, 10] pixel units, got \(sigma)" }
      if !(1...65_536).contains(samples) || !(1...65_536).contains(attackSamples) {
        return "the prediction and attack samples must lie in 1…65536"
      }
      if modes.isEmpty { return "give at least one smoothing mode" }
      if !(epsilon.isFinite && epsilon >= 0 && epsilon <= 1) { return "ε must lie in [0, 1], got \(epsilon)" }
      if !(1...10_000).contains(steps) { return "steps must lie in 1…10000" }
      if !(stepSize.isFinite && stepSize > 0 && stepSize <= 1) { return "the step size must lie in (0, 1], got \(stepSize)" }
      if !(1...100).contains(evaluations) { return "evaluations must lie in 1…100" }
      if batchSize < 1 || sampleBatch < 1 { return "the batch size and sample batch must be at least 1" }
      return nil
    }
  }

  /// One classifier on one set of images.
  public struct Row: Codable, Sendable, Equatable {
    /// `base`, or the smoothing mode.
    public var classifier: String
    /// `clean`, `transfer` or `epgd`.
    public var images: String
    /// Mean accuracy over the evaluations, in [0, 1], and its sample standard deviation.
    public var accuracy: Double
    public var std: Double
  }

  public var settings: Settings
  public var model: String
  public var data: String
  public var count: Int
  public var rows: [Row]
  /// The largest |x_adv − x| of either attack: at most ε unless something is broken.
  public var maxPerturbation: Double
  /// Findings that make a number doubtful (adaptive weaker than transfer).
  public var warnings: [String]
  public var seconds: Double

  /// The three sets of images, in report order.
  public static let imageSets = ["clean", "transfer", "epgd"]

  /// Runs `settings` on every example of `data`; each batch draws from a generator keyed by its
  /// first index, so a run is the same bytes whatever else ran before it.
  /// - Throws: ``AttackError`` for unusable PGD settings.
  /// - Parameter progress: after every batch, the images done and the total.
  public static func run(_ settings: Settings, model: Model, modelName: String, data: Dataset,
                         progress: (Int, Int) -> Void = { _, _ in }) throws -> SmoothedAttackEvaluation {
    precondition(settings.problem == nil, settings.problem ?? "")
    let started = ContinuousClock.now
    let threat = try ThreatModel(norm: .lInfinity, epsilon: Float(settings.epsilon))
    let pgd = try PGD(steps: settings.steps, step: .absolute(Float(settings.stepSize)), randomStart: true)
    let expectation = settings.attackLoss == .expectation
    let epgd = try PGD(steps: settings.steps, step: .absolute(Float(settings.stepSize)), randomStart: true,
                       eotSamples: expectation ? settings.attackSamples : 1)
    let classifiers = ["base"] + settings.modes.map(\.rawValue)
    // correct[classifier][image set][evaluation]
    var correct = [[[Int]]](repeating: [[Int]](repeating: [Int](repeating: 0, count: settings.evaluations), count: 3),
                            count: classifiers.count)
    var largest: Float = 0, done = 0
    model.withMode(.inference) {
      for (x, y) in MiniBatches(data, batchSize: settings.batchSize) {
        var rng = SeededGenerator(seed: settings.seed ^ (UInt64(done) &* 0xD1B5_4A32_D192_ED03))
        let criterion = Criterion.misclassification(labels: y)
        let transfer = pgd.perturb(x, criterion: criterion, within: threat, model: model, using: &rng)
        // The smoothed classifier as the attack sees it: log mean softmax over m_train draws,
        // or one draw per pass with PGD averaging m_train passes' gradients.
        let view = SmoothingLayer(base: model.network, sigma: Float(settings.sigma), samples: expectation ? 1 : settings.attackSamples,
                                  aggregation: expectation ? .soft : .probability, seed: rng.next())
        let adaptive = epgd.perturb(x, criterion: criterion, within: threat, model: view, using: &rng)
        let sets = [x, transfer, adaptive]
        largest = Swift.max(largest, withoutGradients { Swift.max((transfer - x).abs().max(), (adaptive - x).abs().max()) })
        // A deterministic base is measured once; a randomized one (PNI, say) per evaluation.
        for (s, images) in sets.enumerated() {
          var hits = 0
          for e in 0..<settings.evaluations {
            if e == 0 || model.isRandomized {
              hits = zip(withoutGradients { model(images).argmax(alongAxis: 1) }, y).filter { $0 == $1 }.count
            }
            correct[0][s][e] += hits
          }
        }
        for (m, mode) in settings.modes.enumerated() {
          let smoothing = RandomizedSmoothing(base: model, sigma: Float(settings.sigma), mode: mode, sampleBatch: settings.sampleBatch)
          for e in 0..<settings.evaluations {
            var draws = SeededGenerator(seed: rng.next())
            for (s, images) in sets.enumerated() {
              var streams = RandomizedSmoothing.streams(y.count, from: &draws)
              correct[m + 1][s][e] += zip(smoothing.classify(images, draws: settings.samples, streams: &streams), y).filter { $0 == $1 }.count
            }
          }
        }
        done += y.count
        progress(done, data.count)
      }
    }
    var rows: [Row] = []
    for (c, name) in classifiers.enumerated() {
      for (s, set) in imageSets.enumerated() {
        let (mean, std) = meanAndStandardDeviation(correct[c][s].map { Double($0) / Double(Swift.max(done, 1)) })
        rows.append(Row(classifier: name, images: set, accuracy: mean, std: std))
      }
    }
    var warnings = Self.weakAdaptiveAttacks(rows, images: done)
    if Double(largest) > settings.epsilon + 1e-6 {
      warnings.append("an attack moved a pixel by \(largest), beyond ε = \(settings.epsilon)")
    }
    return SmoothedAttackEvaluation(settings: settings, model: modelName, data: data.name, count: done, rows: rows,
                                    maxPerturbation: Double(largest), warnings: warnings,
                                    seconds: (ContinuousClock.now - started).seconds)
  }

  /// A warning for every smoothed classifier that the adaptive EPGD leaves clearly more accurate
  /// than the transfer attack (``clearlyAbove(_:std:_:std:examples:)``).
  static func weakAdaptiveAttacks(_ rows: [Row], images: Int) -> [String] {
    let names = rows.map(\.classifier).reduce(into: [String]()) { if $1 != "base" && !$0.contains($1) { $0.append($1) } }
    return names.compactMap { name in
      guard let t = rows.first(where: { $0.classifier == name && $0.images == "transfer" }),
            let a = rows.first(where: { $0.classifier == name && $0.images == "epgd" }),
            clearlyAbove(a.accuracy, std: a.std, t.accuracy, std: t.std, examples: images) else { return nil }
      return String(format: "%@: the adaptive EPGD leaves %.1f%% accurate, the transfer attack %.1f%%; the adaptive attack is too weak "
                    + "(or the gradients are masked): the robust accuracy is at most the smaller number", name, a.accuracy * 100,
                    t.accuracy * 100)
    }
  }

  /// A Markdown table: one line per classifier, a column per set of images.
  public func markdown() -> String {
    let s = settings
    let cell = { (r: Row) -> String in
      settings.evaluations > 1 && (r.classifier != "base" || r.std > 0) ? String(format: "%.1f ± %.1f%%", r.accuracy * 100, r.std * 100)
        : String(format: "%.1f%%", r.accuracy * 100)
    }
    var lines = [
      "σ = \(s.sigma), m = \(s.samples) draws per prediction, \(count) images of \(data); L∞ ε = \(s.epsilon), PGD-\(s.steps) "
        + "step \(s.stepSize) from a random start; EPGD: \(s.attackSamples) draws per step, "
        + (s.attackLoss == .probability ? "CE of log mean softmax" : "mean of per-draw CE gradients")
        + "; smoothed accuracies over \(s.evaluations) noise seeds.",
      "",
      "| classifier | clean | transfer (PGD on base) | EPGD (adaptive) |",
      "|---|---|---|---|",
    ]
    for name in ["base"] + s.modes.map(\.rawValue) {
      let cells = Self.imageSets.map { set in cell(rows.first { $0.classifier == name && $0.images == set }!) }
      lines.append("| \(name == "base" ? "base (PGD column: white-box)" : "smoothed, \(name)") | " + cells.joined(separator: " | ") + " |")
    }
    lines += ["", String(format: "Largest perturbation %.6f; %.1f s.", maxPerturbation, seconds)]
    lines += warnings.map { "\n**Warning:** \($0)." }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes `report.json`, `report.md` and `manifest.json` into `folder`.
  public func write(to folder: URL, identity: [String: String] = [:]) throws {
    try AtomicFile.writeJSON(self, to: folder.appendingPathComponent("report.json"))
    try AtomicFile.write(Data(markdown().utf8), to: folder.appendingPathComponent("report.md"))
    try FolderManifest.write(folder: folder, files: ["report.json", "report.md"], identity: identity)
  }
}
