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
  /// Only this part of the data set (whole batches of the runs' batch size), or all of it.
  public var shard: Shard?

  /// A job running `runs` of `model` on `data` (or one shard of it) into `output`.
  /// - Precondition: the runs share one kind and, with a shard, one batch size.
  public init(runs: [(settings: CertificationRun.Settings, region: Region)], model: Model, modelName: String, data: Dataset,
              output: URL, identity: [String: String] = [:], radii: [Double] = [0.25, 0.5, 1.0], shard: Shard? = nil) {
    precondition(Set(runs.map(\.settings.kind)).count <= 1, "one job runs one kind")
    precondition(shard == nil || Set(runs.map(\.settings.batchSize)).count <= 1, "a sharded job's runs share one batch size")
    self.runs = runs; self.model = model; self.modelName = modelName; self.data = data; self.output = output
    self.identity = identity; self.radii = radii; self.shard = shard
  }

  /// The ``PartialResult`` kind of a shard's folder for runs of `kind`.
  public static func partialKind(_ kind: CertificationRun.Kind) -> String { "smooth-" + kind.rawValue }


  /// What the manifest records: the caller's identity, the model, data, size, radii, title and
  /// every run's fingerprint line (settings, seed, region), which shards of one job share.
  var jobIdentity: [String: String] {
    identity.merging(["model": modelName, "data": data.name, "examples": String(data.count), "title": title,
                      "radii": radii.map { "\($0)" }.joined(separator: ","),
                      "runs": fingerprint.dropFirst(2).joined(separator: "\n")]) { a, _ in a }
  }

  var title: String { "\(runs.first?.settings.kind.rawValue ?? "smooth") on \(data.name) (\(data.count) images)" }

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
    let head = ["model \(modelName)", "data \(data.name), \(data.count) images" + (shard.map { ", shard \($0)" } ?? "")]
      + identity.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
    return head + runs.map { settings, region in
      let json = (try? encoder.encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
      return "\(region.label ?? "whole image") \(region.mask.map(\.fnv1a64) ?? "-") \(json)"
    }
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
    let (range, part) = data.part(shard, batchSize: runs.first?.settings.batchSize ?? 1)
    for (settings, region) in runs.dropFirst(results.count) {
      note("σ = \(settings.sigma)" + (region.label.map { ", noise on \($0)" } ?? ""))
      var run = try CertificationRun.run(settings, model: model, modelName: modelName, data: part, first: range.lowerBound, mask: region.mask,
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
    let manifest = shard.map {
      PartialResult(kind: Self.partialKind(runs.first?.settings.kind ?? .predict), shard: $0, range: range, examples: data.count,
                    job: jobIdentity).manifestIdentity
    } ?? jobIdentity
    return try CertificationRun.write(results, radii: radii, title: title, identity: manifest, to: output)
  }

  /// Merges shard folders into `folder`: the files one unsharded job writes, identical but for
  /// the timing (each row's `seconds`, each run's `secondsPerImage`, which sums the rows' times).
  /// - Returns: the summary table.
  /// - Throws: ``PartialResultError`` for a foreign, repeated or missing shard,
  ///   ``FolderManifestError`` for an unfinished one, ``CSVError`` for damaged rows.
  @discardableResult
  public static func merge(_ folders: [URL], into folder: URL) throws -> String {
    let parts = try PartialResult.collect(folders)
    let kinds = [CertificationRun.Kind.predict, .certify].map(partialKind)
    guard kinds.contains(parts[0].part.kind) else {
      throw PartialResultError.unsupportedKind(folder: parts[0].folder.path, kind: parts[0].part.kind)
    }
    let job = parts[0].part.job
    let summaryURL = parts[0].folder.appendingPathComponent("summary.json")
    guard let templates = try? JSONDecoder().decode([CertificationRun].self, from: FileBytes.read(summaryURL)) else {
      throw CSVError.malformed(path: summaryURL.path, detail: "not a smoothing summary")
    }
    let runs = try templates.map { t in
      let rows = try parts.flatMap { try readRows($0.folder.appendingPathComponent(t.rowsFile), range: $0.part.range) }
      return CertificationRun(settings: t.settings, label: t.label, model: t.model, data: t.data, maskFraction: t.maskFraction,
                              rows: rows, seconds: rows.reduce(0) { $0 + $1.seconds })
    }
    let radii = (job["radii"] ?? "").split(separator: ",").compactMap { Double($0) }
    return try CertificationRun.write(runs, radii: radii, title: job["title"] ?? "smooth", identity: job, to: folder)
  }

  /// The rows of a part's CSV, checked against the examples its identity claims.
  static func readRows(_ url: URL, range: Range<Int>) throws -> [CertificationRun.Row] {
    let cells = try CSVTable.read(url, header: CertificationRun.rowsHeader, columns: 7)
    guard cells.count == range.count else { throw CSVError.malformed(path: url.path, detail: "\(cells.count) rows for examples \(range)") }
    return try cells.enumerated().map { n, c in
      func optional(_ s: Substring) -> Double?? { s.isEmpty ? .some(nil) : Double(s).map { .some($0) } }
      guard let index = Int(c[0]), index == range.lowerBound + n, let label = Int(c[1]),
            let prediction: Int? = c[2].isEmpty ? .some(nil) : Int(c[2]).map({ .some($0) }),
            let pLower = optional(c[3]), let radius = optional(c[4]), let seconds = Double(c[6]) else {
        throw CSVError.malformed(path: url.path, detail: "line \(n + 2) is not example \(range.lowerBound + n)'s row")
      }
      return CertificationRun.Row(index: index, label: label, prediction: prediction, pLower: pLower, radius: radius, seconds: seconds)
    }
  }
}
