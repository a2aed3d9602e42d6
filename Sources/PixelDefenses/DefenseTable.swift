import Foundation
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelImaging
import PixelNN
import PixelTensor

/// Hwang et al.'s closing table — top-1 accuracy of defenses (rows) under attacks (columns) — as
/// one job, in two protocols:
/// - **gray-box** (the paper's): adversarial examples made on the undefended base model, then
///   classified by each defense;
/// - **adaptive**: each attack runs against the defended model itself — gradient attacks through
///   its differentiable or BPDA layers with EOT over its randomness, score-based attacks querying
///   it.
///
/// Every defended classification of a randomized defense is repeated `classifications` times and
/// an example counts as correct only if every repetition is (the worst case). Each cell is the mean
/// ± sample std over `seeds` runs (attack starts and defense draws from `seed + s`). The defense
/// rate is `1 − (a_clean − a_defended) / (a_clean − a_attacked)` with the base's clean and attacked
/// accuracy: 1 recovers clean accuracy, 0 is no better than no defense.
public struct DefenseTable: Codable, Sendable {
  /// How the adversarial examples of a cell are made.
  public enum AttackProtocol: String, Codable, Sendable, CaseIterable {
    case grayBox = "gray-box", adaptive
  }

  /// One attack column.
  public struct Attack: Sendable {
    /// The column's name.
    public var name: String
    /// The attack's settings (bounded attacks at `epsilons[0]` and `steps[0]`).
    public var settings: AttackSettings

    /// The column `name` running `settings`.
    public init(name: String, settings: AttackSettings) {
      self.name = name
      self.settings = settings
    }
  }

  /// One defense row: `model` is the defended classifier (the base itself for "none").
  public struct Defense {
    public var name: String
    public var model: Model
    /// What adaptive gradient attacks differentiate when `model` has no useful gradient (a vote
    /// over noise draws: the same draws aggregated as a mean softmax); `nil` attacks `model`.
    public var surrogate: Model?

    /// The row `name` classified by `model`, attacked through `surrogate` if given.
    public init(name: String, model: Model, surrogate: Model? = nil) {
      self.name = name
      self.model = model
      self.surrogate = surrogate
    }
  }

  /// The job's settings. JSON keys are the property names.
  public struct Settings: Codable, Sendable, Equatable {
    public var protocols: [AttackProtocol]
    /// Runs per cell, seeded `seed + s`.
    public var seeds: Int
    /// Classifications per example of a randomized defense (worst case kept).
    public var classifications: Int
    /// EOT samples per gradient of an adaptive attack on a randomized defense.
    public var eotSamples: Int
    public var batchSize: Int
    public var seed: UInt64

    /// Settings; ``problem`` checks them.
    public init(protocols: [AttackProtocol] = AttackProtocol.allCases, seeds: Int = 3, classifications: Int = 3,
                eotSamples: Int = 8, batchSize: Int = 50, seed: UInt64 = 0) {
      self.protocols = protocols; self.seeds = seeds; self.classifications = classifications
      self.eotSamples = eotSamples; self.batchSize = batchSize; self.seed = seed
    }

    /// The first problem with these values, in words, or `nil`.
    public var problem: String? {
      if protocols.isEmpty { return "give at least one protocol" }
      if !(1...100).contains(seeds) { return "seeds must lie in 1…100" }
      if !(1...100).contains(classifications) { return "classifications must lie in 1…100" }
      if !(1...1000).contains(eotSamples) { return "EOT samples must lie in 1…1000" }
      if batchSize < 1 { return "the batch size must be at least 1" }
      return nil
    }
  }

  /// One cell. JSON keys are the property names.
  public struct Cell: Codable, Sendable, Equatable {
    public var defense: String
    /// The attack's column name, or `clean`.
    public var attack: String
    /// `nil` for the clean column.
    public var attackProtocol: AttackProtocol?
    /// Correctly classified examples per seed (what shards add up).
    public var correct: [Int]
    /// Mean top-1 accuracy over seeds in [0, 1], its sample std, and each seed's value.
    public var accuracy: Double
    public var std: Double
    public var perSeed: [Double]
    /// `1 − (a_clean − a) / (a_clean − a_attacked)` against the undefended base; `nil` for clean
    /// cells and where the attack does not lower the base's accuracy.
    public var defenseRate: Double?
    /// Wall-clock seconds of the cell, all seeds.
    public var seconds: Double
  }

  public var settings: Settings
  public var attacks: [String]
  public var defenses: [String]
  public var data: String
  public var count: Int
  public var cells: [Cell]
  /// Caveats that follow from how cells were run (a randomized defense attacked without EOT, …).
  public var cautions: [String]
  /// The cautions, then what the numbers show (possible gradient masking).
  public var warnings: [String]

  /// Runs every (defense, attack, protocol) cell on `data`. The first defense should be the
  /// undefended base (named `none`): it is the gray-box source and the defense rate's reference.
  /// - Throws: ``AttackError`` for unusable attack settings.
  /// - Parameter progress: a line per cell as it starts.
  /// - Parameters:
  ///   - first: the global index of `data`'s first example, a multiple of the batch size (a
  ///     shard's offset): batch `b` of `data` draws from the streams of global batch `first / batchSize + b`.
  ///   - completed: cells of an interrupted run of the same table, kept as they are (every cell
  ///     draws from generators of its own, so the others come out as an uninterrupted run's).
  ///   - onCell: called with each newly computed cell (a journal records it).
  public static func run(_ settings: Settings, base: Model, defenses: [Defense], attacks: [Attack], data: Dataset, first: Int = 0,
                         completed: [Cell] = [], onCell: (Cell) throws -> Void = { _ in },
                         progress: (String) -> Void = { _ in }) throws -> DefenseTable {
    precondition(settings.problem == nil, settings.problem ?? "")
    precondition(first % settings.batchSize == 0, "a part starts on a batch boundary")
    var cells: [Cell] = [], warnings: [String] = []
    func known(_ defense: String, _ attack: String, _ attackProtocol: AttackProtocol?) -> Cell? {
      completed.first { $0.defense == defense && $0.attack == attack && $0.attackProtocol == attackProtocol }
    }
    let batches = Array(MiniBatches(data, batchSize: settings.batchSize))
    let firstBatch = first / settings.batchSize
    func seeded(_ s: Int) -> UInt64 { settings.seed &+ UInt64(s) }
    // The defense's draws for batch `b` of seed `s`: every batch draws afresh, keyed by its
    // global index, so a shard's batches draw what they draw in the whole table.
    func drawSeed(_ s: Int, _ b: Int) -> UInt64 { seeded(s) &+ UInt64(firstBatch + b) &* 0x1_0000_0001 }

    /// Worst-case correctness of `model` on `images` over the classifications, per example.
    func correct(_ model: Model, _ images: Tensor, _ labels: [Int], seed: UInt64) -> [Bool] {
      var ok = [Bool](repeating: true, count: labels.count)
      let repeats = model.isRandomized ? settings.classifications : 1
      for r in 0..<repeats {
        model.reseedRandomizedLayers(seed &+ UInt64(r) &* 0x9E37_79B9)
        let predictions = withoutGradients { model(images).argmax(alongAxis: 1) }
        for i in ok.indices where predictions[i] != labels[i] { ok[i] = false }
      }
      return ok
    }

    /// The adversarial examples of `attack` on `target` for one batch.
    func adversarial(_ attack: Attack, against target: Model, eot: Int, _ x: Tensor, _ y: [Int],
                     using rng: inout SeededGenerator) throws -> Tensor {
      var s = attack.settings
      s.eotSamples = attack.settings.method.usesGradients ? eot : 1
      let criterion = Criterion.misclassification(labels: y)
      if s.method.isMinimal {
        return try s.minimalAttack().perturb(x, criterion: criterion, within: PixelDomain(), model: target, using: &rng)
      }
      let threat = try ThreatModel(norm: s.norm, epsilon: s.epsilons[0])
      return try s.attacks()[0].perturb(x, criterion: criterion, within: threat, model: target, using: &rng)
    }

    // The accuracies are filled in from the counts by `init(settings:attacks:defenses:data:count:cells:cautions:)`.
    func cell(_ defense: String, _ attack: String, _ attackProtocol: AttackProtocol?, _ correct: [Int], _ seconds: Double) -> Cell {
      Cell(defense: defense, attack: attack, attackProtocol: attackProtocol, correct: correct, accuracy: 0, std: 0, perSeed: [],
           defenseRate: nil, seconds: seconds)
    }

    try base.withMode(.inference) {
      for d in defenses { d.model.setMode(.inference); d.surrogate?.setMode(.inference) }
      // Clean accuracy of every defense.
      for d in defenses {
        if let done = known(d.name, "clean", nil) {
          cells.append(done)
          continue
        }
        progress("\(d.name): clean")
        let t0 = ContinuousClock.now
        let values = (0..<settings.seeds).map { s -> Int in
          batches.enumerated().reduce(0) { total, batch in
            total + correct(d.model, batch.element.images, batch.element.labels, seed: drawSeed(s, batch.offset)).filter { $0 }.count
          }
        }
        cells.append(cell(d.name, "clean", nil, values, (ContinuousClock.now - t0).seconds))
        try onCell(cells[cells.count - 1])
      }
      for attack in attacks {
        for attackProtocol in settings.protocols {
          // Gray-box examples are made once per seed on the base and shared by every row.
          var shared: [[Tensor]] = []
          if attackProtocol == .grayBox && defenses.contains(where: { known($0.name, attack.name, attackProtocol) == nil }) {
            progress("\(attack.name), gray-box: crafting on the base")
            shared = try (0..<settings.seeds).map { s in
              try batches.enumerated().map { b, batch in
                var rng = SeededGenerator(seed: seeded(s), stream: firstBatch + b)
                return try adversarial(attack, against: base, eot: 1, batch.images, batch.labels, using: &rng)
              }
            }
          }
          for d in defenses {
            if attackProtocol == .adaptive && d.model.isRandomized && attack.settings.method.usesGradients {
              if attack.settings.method.isMinimal {
                warnings.append("\(d.name) × \(attack.name) (adaptive): a minimal attack has no EOT; it ran on single random draws of the defense")
              } else if settings.eotSamples == 1 {
                warnings.append("\(d.name) × \(attack.name) (adaptive): a randomized defense attacked without EOT (give --eot N)")
              }
            }
            if let done = known(d.name, attack.name, attackProtocol) {
              cells.append(done)
              continue
            }
            progress("\(d.name) × \(attack.name), \(attackProtocol.rawValue)")
            let t0 = ContinuousClock.now
            let adaptiveEOT = d.model.isRandomized ? settings.eotSamples : 1
            let values = try (0..<settings.seeds).map { s -> Int in
              var hits = 0
              for (b, batch) in batches.enumerated() {
                var rng = SeededGenerator(seed: seeded(s) ^ 0x5EED, stream: firstBatch + b)
                d.model.reseedRandomizedLayers(drawSeed(s, b))
                let target = attack.settings.method.usesGradients ? d.surrogate ?? d.model : d.model
                let xAdv = attackProtocol == .grayBox ? shared[s][b]
                  : try adversarial(attack, against: target, eot: adaptiveEOT, batch.images, batch.labels, using: &rng)
                hits += correct(d.model, xAdv, batch.labels, seed: drawSeed(s, b) &+ 0xC1A5).filter { $0 }.count
              }
              return hits
            }
            cells.append(cell(d.name, attack.name, attackProtocol, values, (ContinuousClock.now - t0).seconds))
            try onCell(cells[cells.count - 1])
          }
        }
      }
    }
    return DefenseTable(settings: settings, attacks: attacks.map(\.name), defenses: defenses.map(\.name), data: data.name,
                        count: data.count, cells: cells, cautions: warnings)
  }

  /// The cell of `defense` under `attack` in `attackProtocol` (`nil` for clean).
  public func cell(_ defense: String, _ attack: String, _ attackProtocol: AttackProtocol?) -> Cell? {
    cells.first { $0.defense == defense && $0.attack == attack && $0.attackProtocol == attackProtocol }
  }

  /// One Markdown table per protocol: rows defenses, a clean column, then an attack per column
  /// as `accuracy ± std (defense rate)`.
  public func markdown() -> String {
    let pct = { (v: Double) in String(format: "%.1f", v * 100) }
    var lines: [String] = []
    for p in settings.protocols {
      lines += ["", "### \(p == .grayBox ? "Gray-box (examples made on the undefended base)" : "Adaptive (attacks run through each defense, EOT \(settings.eotSamples) on randomized ones)")",
                "", "| defense | clean | " + attacks.joined(separator: " | ") + " |",
                "|" + String(repeating: "---|", count: attacks.count + 2)]
      for d in defenses {
        let clean = cell(d, "clean", nil).map { "\(pct($0.accuracy)) ± \(pct($0.std))" } ?? "–"
        let row = attacks.map { a -> String in
          guard let c = cell(d, a, p) else { return "–" }
          return "\(pct(c.accuracy)) ± \(pct(c.std))" + (c.defenseRate.map { String(format: " (%.2f)", $0) } ?? "")
        }
        lines.append("| \(d) | \(clean) | " + row.joined(separator: " | ") + " |")
      }
    }
    let header = "Top-1 accuracy in % (mean ± std over \(settings.seeds) seeds; defense rate in parentheses) on \(count) images of \(data); "
      + "randomized defenses classify each example \(settings.classifications) times, worst case kept."
    return ([header] + lines + warnings.map { "\n**Warning:** \($0)." }).joined(separator: "\n") + "\n"
  }

  /// One defenses × (clean, attacks) accuracy grid per protocol on a shared 0–100 % scale, the
  /// mean accuracy written in each cell; the legend numbers the rows.
  public func heatmap() -> Canvas {
    let (width, height, margin) = (64, 28, 8)
    let columns = ["clean"] + attacks
    let tiles = settings.protocols.map { p -> (canvas: Canvas, caption: String) in
      // A narrow first column numbers the rows (the legend names them).
      let label = 20
      var c = Canvas(width: label + width * columns.count, height: height * (defenses.count + 1))
      c.fill(x: 0, y: 0, width: c.width, height: c.height, color: .white)
      for (j, a) in columns.enumerated() {
        c.text(String(a.prefix(9)), centeredAt: label + j * width + width / 2, y: height / 2 - 3, color: .black)
      }
      for (i, d) in defenses.enumerated() {
        c.text("\(i + 1)", centeredAt: label / 2, y: (i + 1) * height + height / 2 - 3, color: .black)
        for (j, a) in columns.enumerated() {
          let v = cell(d, a, a == "clean" ? nil : p)?.accuracy ?? 0
          c.fill(x: label + j * width, y: (i + 1) * height, width: width, height: height, color: Colormap.viridis.color(v))
          c.text(String(format: "%.1f", v * 100), centeredAt: label + j * width + width / 2, y: (i + 1) * height + height / 2 - 3,
                 color: v > 0.6 ? .black : .white)
        }
      }
      return (c, p.rawValue)
    }
    let grid = Heatmap.grid(tiles, columns: tiles.count, title: "top-1 accuracy %: rows defenses, columns attacks")
    let legend = defenses.enumerated().map { "\($0.offset + 1) \($0.element)" }.joined(separator: "  ")
    var out = Canvas(width: Swift.max(grid.width, BitmapFont.width(legend) + 2 * margin), height: grid.height + 16)
    out.draw(grid, x: 0, y: 0)
    out.text(legend, x: margin, y: grid.height + 4)
    return out
  }

  /// Writes `table.json`, `table.csv` (`defense,attack,protocol,accuracy,std,defense_rate,seconds`),
  /// `table.md`, `table.png` (``heatmap()``) and `manifest.json` into `folder`.
  public func write(to folder: URL, identity: [String: String] = [:]) throws {
    try AtomicFile.writeJSON(self, to: folder.appendingPathComponent("table.json"))
    let csv = ["defense,attack,protocol,accuracy,std,defense_rate,seconds"] + cells.map { c in
      "\(c.defense),\(c.attack),\(c.attackProtocol?.rawValue ?? ""),\(c.accuracy),\(c.std),\(c.defenseRate.map { "\($0)" } ?? ""),\(c.seconds)"
    }
    try AtomicFile.write(Data((csv.joined(separator: "\n") + "\n").utf8), to: folder.appendingPathComponent("table.csv"))
    try AtomicFile.write(Data(markdown().utf8), to: folder.appendingPathComponent("table.md"))
    try heatmap().write(to: folder.appendingPathComponent("table.png"))
    try FolderManifest.write(folder: folder, files: ["table.json", "table.csv", "table.md", "table.png"], identity: identity)
  }
}

extension DefenseTable {
  /// The table of `cells` counted over `count` examples (a whole data set, or the added parts of
  /// one): each cell's per-seed accuracy, mean and std from its counts, the warnings (the
  /// `cautions`, then adaptive attacks weaker than their gray-box counterpart) and the defense
  /// rates against the first defense, the undefended base.
  public init(settings: Settings, attacks: [String], defenses: [String], data: String, count: Int, cells raw: [Cell],
              cautions: [String]) {
    var cells = raw
    for i in cells.indices {
      cells[i].perSeed = cells[i].correct.map { Double($0) / Double(Swift.max(count, 1)) }
      (cells[i].accuracy, cells[i].std) = meanAndStandardDeviation(cells[i].perSeed)
    }
    func find(_ defense: String, _ attack: String, _ attackProtocol: AttackProtocol?) -> Cell? {
      cells.first { $0.defense == defense && $0.attack == attack && $0.attackProtocol == attackProtocol }
    }
    var warnings = cautions
    // An adaptive attack that does worse than the same attack transferred from the base is too
    // weak or blocked by masked gradients: the defense's robustness is at most the gray-box number.
    for c in cells where c.attackProtocol == .adaptive {
      guard let gray = find(c.defense, c.attack, .grayBox),
            clearlyAbove(c.accuracy, std: c.std, gray.accuracy, std: gray.std, examples: count) else { continue }
      warnings.append(String(format: "%@ × %@: the adaptive attack leaves %.1f%% accurate, the gray-box one %.1f%%: possible gradient "
                             + "masking; the defense is at most as robust as the smaller number", c.defense, c.attack,
                             c.accuracy * 100, gray.accuracy * 100))
    }
    if let reference = defenses.first, let clean = find(reference, "clean", nil)?.accuracy {
      for i in cells.indices where cells[i].attackProtocol != nil {
        guard let attacked = find(reference, cells[i].attack, cells[i].attackProtocol)?.accuracy else { continue }
        cells[i].defenseRate = defenseRate(clean: clean, attacked: attacked, defended: cells[i].accuracy)
      }
    }
    self.init(settings: settings, attacks: attacks, defenses: defenses, data: data, count: count, cells: cells, cautions: cautions,
              warnings: warnings)
  }
}

extension DefenseTable {
  /// `base` behind the input layer `layer` (a randomization or deflection layer without
  /// parameters of its own): the base's weights load unchanged, index-named layers shifted by one.
  public static func prepending(_ layer: LayerSpec, to base: Model) throws -> Model {
    let spec = ModelSpec(input: base.spec.input, classes: base.spec.classes, layers: [layer] + base.spec.layers)
    let model = try Model(spec: spec, seed: 0, builder: .withDefenses)
    let state = Dictionary(uniqueKeysWithValues: base.stateTensors.map { key, value -> (String, Tensor) in
      let head = key.prefix { $0 != "." }
      guard let index = Int(head) else { return (key, value) }
      return ("\(index + 1)" + key.dropFirst(head.count), value)
    })
    try model.loadState(state, source: "base")
    return model
  }
}

extension DefenseTable {
  /// What a table's `journal.json` holds: the job's fingerprint and its finished cells.
  struct Journal: Codable {
    var fingerprint: [String]
    var cells: [Cell]
  }

  /// The ``PartialResult`` kind of a shard's folder.
  public static let partialKind = "defense-table"

  /// ``run(_:base:defenses:attacks:data:first:completed:onCell:progress:)`` on `data` or one shard
  /// of it, written to `folder` with a journal: every finished cell is recorded in
  /// `journal.json` (atomically), and with `resume` a journal of the same job (settings, rows,
  /// columns, data, shard and `fingerprint`) is continued. A shard's folder records a
  /// ``PartialResult`` identity for ``merge(_:into:)``.
  /// - Parameter identity: what the manifest records besides the job (model, data names).
  /// - Throws: ``JournalError`` for a journal of another job or an unreadable one.
  public static func run(_ settings: Settings, base: Model, defenses: [Defense], attacks: [Attack], data: Dataset,
                         shard: Shard? = nil, folder: URL, fingerprint: [String], identity: [String: String], resume: Bool,
                         progress: (String) -> Void = { _ in }) throws -> DefenseTable {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent("journal.json")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let settingsJSON = (try? encoder.encode(settings)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
    let job = ["settings \(settingsJSON)", "data \(data.name), \(data.count) images", "defenses \(defenses.map(\.name))"]
      + attacks.map { "attack \($0.name): \($0.settings)" } + fingerprint
    let lines = job + (shard.map { ["shard \($0)"] } ?? [])
    var journal = Journal(fingerprint: lines, cells: [])
    if resume, let saved = try JobJournal.load(Journal.self, at: url, fingerprint: \.fingerprint, expected: lines) {
      journal = saved
      progress("resuming: \(saved.cells.count) cells finished")
    }
    let (range, part) = data.part(shard, batchSize: settings.batchSize)
    let table = try run(settings, base: base, defenses: defenses, attacks: attacks, data: part,
                        first: range.lowerBound, completed: journal.cells, onCell: { cell in
      journal.cells.append(cell)
      try AtomicFile.writeJSON(journal, to: url)
    }, progress: progress)
    let whole = identity.merging(["examples": String(data.count), "job": job.joined(separator: "\n")]) { a, _ in a }
    try table.write(to: folder, identity: shard.map {
      PartialResult(kind: partialKind, shard: $0, range: range, examples: data.count, job: whole).manifestIdentity
    } ?? whole)
    return table
  }

  /// Merges shard folders into `folder`: the table one unsharded run writes, identical but for
  /// the timing (each cell's `seconds` sums the shards').
  /// - Throws: ``PartialResultError`` for a foreign, repeated or missing shard,
  ///   ``FolderManifestError`` for an unfinished one, ``CSVError`` for a damaged table.
  @discardableResult
  public static func merge(_ folders: [URL], into folder: URL) throws -> DefenseTable {
    let parts = try PartialResult.collect(folders)
    guard parts[0].part.kind == partialKind else {
      throw PartialResultError.unsupportedKind(folder: parts[0].folder.path, kind: parts[0].part.kind)
    }
    var tables: [DefenseTable] = []
    for (shardFolder, part) in parts {
      let url = shardFolder.appendingPathComponent("table.json")
      guard let t = try? JSONDecoder().decode(DefenseTable.self, from: FileBytes.read(url)), t.count == part.range.count,
            t.cells.allSatisfy({ $0.correct.count == t.settings.seeds && $0.correct.allSatisfy { (0...t.count).contains($0) } }),
            tables.first.map({ $0.settings == t.settings && $0.defenses == t.defenses && $0.attacks == t.attacks
                               && $0.cautions == t.cautions && $0.cells.map(\.key) == t.cells.map(\.key) }) ?? true else {
        throw CSVError.malformed(path: url.path, detail: "not a defense table of \(part.range.count) examples of this job")
      }
      tables.append(t)
    }
    var cells = tables[0].cells
    for t in tables.dropFirst() {
      for i in cells.indices {
        cells[i].correct = zip(cells[i].correct, t.cells[i].correct).map { $0 + $1 }
        cells[i].seconds += t.cells[i].seconds
      }
    }
    let first = tables[0]
    let table = DefenseTable(settings: first.settings, attacks: first.attacks, defenses: first.defenses, data: first.data,
                             count: parts[0].part.examples, cells: cells, cautions: first.cautions)
    try table.write(to: folder, identity: parts[0].part.job)
    return table
  }
}

extension DefenseTable.Cell {
  /// Which cell this is: defense, attack and protocol.
  var key: String { "\(defense)|\(attack)|\(attackProtocol?.rawValue ?? "clean")" }
}
