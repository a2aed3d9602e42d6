import Foundation
import PixelData
import PixelNN
import PixelTensor

/// Several smoothing runs over one data set — a σ grid, or noise regions of a masked sweep —
/// journaled so that a killed job resumes where it stopped: what `pixelrobust smooth predict|certify`
/// runs.
///
/// After every batch the rows so far are written to `journal.json` in the output folder
/// (atomically). With `resume`, a journal of the same job (same settings, regions, model
/// weights and data) is continued: finished runs are kept and the interrupted one continues at
/// its next batch. Because every batch draws from a generator keyed by its first index (see
/// ``CertificationRun/run(_:model:modelName:data:mask:continuing:afterBatch:progress:)``),
/// the results are the same bytes as an uninterrupted job's.
public struct CertificationJob {
  /// Where the noise goes in one run.
  public struct Region: Sendable {
    /// The run's name in file names, the legend and the tables (e.g. `top:25`); `nil` for the
    /// whole image in a job without masks.
    public var label: String?
    /// `[C, H, W]` or `[1, C, H, W]` ones on the noisy pixels; `nil` for the whole image.
    public var mask: Tensor?

    /// A region named `label` covering `mask`.
    public init(label: String?, mask: Tensor?) {
      self.label = label
      self.mask = mask
    }
  }

  /// The runs, in order: each settings with its region.
  public var runs: [(settings: CertificationRun.Settings, region: Region)]
  public var model: Model
  /// The model and data as the user named them.
  public var modelName: String
  public var data: Dataset
  /// The output folder.
  public var output: URL
  /// Recorded in the manifest and the journal (e.g. the model's content hash).
  public var identity: [String: String]
  /// The radii of the summary table's certified-accuracy columns.
  public var radii: [Double]

  /// A job running `runs` of `model` on `data` into `output`.
  public init(runs: [(settings: CertificationRun.Settings, region: Region)], model: Model, modelName: String, data: Dataset,
              output: URL, identity: [String: String] = [:], radii: [Double] = [0.25, 0.5, 1.0]) {
    self.runs = runs; self.model = model; self.modelName = modelName; self.data = data; self.output = output
    self.identity = identity; self.radii = radii
  }

  /// The journal file in the output folder.
  public var journalURL: URL { output.appendingPathComponent("journal.json") }

  /// What the journal holds: the job's fingerprint, the finished runs and the rows of the
  /// interrupted one.
  struct Journal: Codable {
    var fingerprint: [String]
    var finished: [CertificationRun]
    var partial: [CertificationRun.Row]
  }

  /// One line per run (settings, region size and a hash of its mask) plus the model, data and
  /// identity: two jobs with the same fingerprint compute the same rows.
  var fingerprint: [String] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let head = ["model \(modelName)", "data \(data.name), \(data.count) images"]
      + identity.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
    return head + runs.map { settings, region in
      let json = (try? encoder.encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
      return "\(region.label ?? "whole image") \(region.mask.map(Self.hash) ?? "-") \(json)"
    }
  }

  /// FNV-1a of a mask's bytes, as hex.
  static func hash(_ mask: Tensor) -> String {
    var digest = FNV1a()
    mask.withUnsafeBufferPointer { digest.mix(UnsafeRawBufferPointer($0)) }
    return digest.hex
  }

  /// Runs the job (continuing its journal with `resume`), writes the outputs and returns the
  /// summary table.
  /// - Parameters:
  ///   - note: a line for the user (a run starting, a resumed run).
  ///   - progress: after every batch, the images done in the current run and its size.
  /// - Throws: ``JournalError`` for a journal of another job; file errors.
  @discardableResult
  public func run(resume: Bool, note: (String) -> Void = { _ in }, progress: (Int, Int) -> Void = { _, _ in }) throws -> String {
    try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
    var journal = Journal(fingerprint: fingerprint, finished: [], partial: [])
    if resume, let saved = try JobJournal.load(Journal.self, at: journalURL, fingerprint: \.fingerprint, expected: journal.fingerprint) {
      journal = saved
      note("resuming: \(saved.finished.count) of \(runs.count) runs finished" + (saved.partial.isEmpty ? "" : ", \(saved.partial.count) images of the next"))
    }
    var results = journal.finished
    for (settings, region) in runs.dropFirst(results.count) {
      note("σ = \(settings.sigma)" + (region.label.map { ", noise on \($0)" } ?? ""))
      var run = try CertificationRun.run(settings, model: model, modelName: modelName, data: data, mask: region.mask,
                                         continuing: journal.partial, afterBatch: { rows in
        journal.partial = rows
        try AtomicFile.writeJSON(journal, to: journalURL)
      }, progress: progress)
      run.label = region.label
      results.append(run)
      journal.finished = results
      journal.partial = []
      try AtomicFile.writeJSON(journal, to: journalURL)
    }
    return try CertificationRun.write(results, radii: radii, title: "\(runs.first?.settings.kind.rawValue ?? "smooth") on \(data.name) (\(data.count) images)",
                                      identity: identity.merging(["model": modelName, "data": data.name]) { a, _ in a }, to: output)
  }
}
