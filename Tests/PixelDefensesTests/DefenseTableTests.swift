import Foundation
import Testing
import PixelAttacks
import PixelData
import PixelNN
import PixelTensor
import _TestSupport
@testable import PixelDefenses

@Suite("The defense table: bookkeeping, protocols, reproducibility, CIFAR-shaped inputs")
struct DefenseTableTests {
  /// A small CNN on 1×6×6 inputs and eight images labelled with its own predictions (clean accuracy 1).
  static func setting() throws -> (Model, Dataset) {
    let model = try Model(spec: ObjectiveTests.spec, seed: 4)
    model.setMode(.inference)
    var g = SeededGenerator(seed: 8)
    let x = Tensor.uniform([8, 1, 6, 6], using: &g)
    let labels = withoutGradients { model(x).argmax(alongAxis: 1) }
    return (model, Dataset(name: "eight", images: x, labels: labels, classNames: ["a", "b", "c"]))
  }

  static func defenses(_ base: Model) throws -> [DefenseTable.Defense] {
    var deflection = LayerSpec(type: "pixel_deflection")
    try deflection.setOption("deflections", 3)
    try deflection.setOption("window", 2)
    let (region, state) = try RandomizedSmoothing.wrap(base, sigma: 0.05, samples: 8, mode: .vote, noise: .uniform, seed: 1)
    let regionModel = try Model(spec: region, seed: 0, builder: .withDefenses)
    try regionModel.loadState(state, source: "base")
    return [.init(name: "none", model: base), .init(name: "deflection", model: try DefenseTable.prepending(deflection, to: base)),
            .init(name: "region", model: regionModel)]
  }

  static let attacks = [
    DefenseTable.Attack(name: "fgsm", settings: AttackSettings(method: .fgsm, epsilons: [0.3])),
    DefenseTable.Attack(name: "deepfool", settings: AttackSettings(method: .deepFool, norm: .l2)),
  ]

  static func table() throws -> DefenseTable {
    let (base, data) = try setting()
    return try DefenseTable.run(DefenseTable.Settings(seeds: 2, classifications: 2, eotSamples: 2, batchSize: 4), base: base,
                                defenses: defenses(base), attacks: attacks, data: data)
  }

  @Test("every cell is there; the undefended row is the reference; rates follow the formula; the same seed gives the same table")
  func bookkeeping() throws {
    let table = try Self.table()
    #expect(table.cells.count == 3 + 3 * 2 * 2)
    #expect(table.cell("none", "clean", nil)?.accuracy == 1)
    // FGSM is deterministic: on the undefended model both protocols make the same examples.
    #expect(table.cell("none", "fgsm", .grayBox)?.perSeed == table.cell("none", "fgsm", .adaptive)?.perSeed)
    for c in table.cells where c.attackProtocol != nil {
      let attacked = try #require(table.cell("none", c.attack, c.attackProtocol)).accuracy
      if attacked < 1 {
        let rate = try #require(c.defenseRate)
        #expect(Swift.abs(rate - (1 - (1 - c.accuracy) / (1 - attacked))) < 1e-12)
        if c.defense == "none" { #expect(Swift.abs(rate) < 1e-12) }
      }
      #expect(c.perSeed.count == 2 && c.accuracy >= 0 && c.accuracy <= 1)
    }
    #expect(table.warnings.contains { $0.contains("region × deepfool (adaptive): a minimal attack has no EOT") })
    // The vote has no gradient: attacked directly, FGSM does nothing, and the table says so.
    #expect(table.cell("region", "fgsm", .adaptive)?.accuracy == table.cell("region", "clean", nil)?.accuracy)
    #expect(table.warnings.contains { $0.hasPrefix("region × fgsm: the adaptive attack leaves") && $0.contains("gradient masking") })
    let again = try Self.table()
    #expect(again.cells.map { [$0.accuracy, $0.std] } == table.cells.map { [$0.accuracy, $0.std] })
    #expect(table.markdown().contains("| deflection | 100.0"))
  }

  @Test("a journaled table cut after five cells resumes to the cells of an uninterrupted one; another job's journal is refused")
  func resumes() throws {
    let (base, data) = try Self.setting()
    let folder = temporaryFolder("defense-table-resume")
    defer { try? FileManager.default.removeItem(at: folder) }
    let settings = DefenseTable.Settings(seeds: 2, classifications: 2, eotSamples: 2, batchSize: 4)
    func run(resume: Bool, fingerprint: [String] = ["model a"]) throws -> DefenseTable {
      try DefenseTable.run(settings, base: base, defenses: Self.defenses(base), attacks: Self.attacks, data: data,
                           folder: folder, fingerprint: fingerprint, identity: ["model": "a"], resume: resume)
    }
    let whole = try run(resume: false)
    let url = folder.appendingPathComponent("journal.json")
    var journal = try JSONDecoder().decode(DefenseTable.Journal.self, from: Data(contentsOf: url))
    #expect(journal.cells.count == whole.cells.count)
    journal.cells = Array(journal.cells.prefix(5))
    try JSONEncoder().encode(journal).write(to: url)
    let resumed = try run(resume: true)
    #expect(resumed.cells.map { [$0.accuracy, $0.std] + $0.perSeed } == whole.cells.map { [$0.accuracy, $0.std] + $0.perSeed })
    #expect(resumed.warnings == whole.warnings)
    #expect { try run(resume: true, fingerprint: ["model b"]) } throws: { "\($0)".contains("belongs to another job") }
  }

  /// Blanks the timing: each cell's seconds in table.json and table.csv.
  static func withoutTiming(_ name: String, _ data: Data) -> Data {
    let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
      if name == "table.csv" { return line.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",") }
      if name == "table.json" && line.contains("\"seconds\"") { return "" }
      return String(line)
    }
    return Data(lines.joined(separator: "\n").utf8)
  }

  @Test("shards of the table (randomized defenses, both protocols) merge into the single table's files but for timing",
        arguments: [1, 2])
  func shardsMerge(_ shards: Int) throws {
    let (base, data) = try Self.setting()
    let settings = DefenseTable.Settings(seeds: 2, classifications: 2, eotSamples: 2, batchSize: 4)
    var table: DefenseTable?
    let (whole, merged) = try wholeAndMerged(shards, "defense-table-shards", run: { shard, folder in
      _ = try DefenseTable.run(settings, base: base, defenses: Self.defenses(base), attacks: Self.attacks, data: data, shard: shard,
                               folder: folder, fingerprint: ["model a"], identity: ["model": "a"], resume: false)
    }, merge: { table = try DefenseTable.merge($0, into: $1) })
    #expect(table?.count == 8)
    let expected = try resultFiles(whole, ignoring: Self.withoutTiming), got = try resultFiles(merged, ignoring: Self.withoutTiming)
    #expect(got.keys.sorted() == expected.keys.sorted())
    for name in expected.keys.sorted() where name != "manifest.json" { #expect(got[name] == expected[name], "\(name)") }
    #expect(try FolderManifest.verify(folder: merged).identity == FolderManifest.verify(folder: whole).identity)
  }

  @Test("a differentiable surrogate lets the adaptive attack through the region vote")
  func surrogate() throws {
    let (base, data) = try Self.setting()
    var rows = try Self.defenses(base)
    let (spec, state) = try RandomizedSmoothing.wrap(base, sigma: 0.05, samples: 8, mode: .probability, noise: .uniform, seed: 1)
    let probability = try Model(spec: spec, seed: 0, builder: .withDefenses)
    try probability.loadState(state, source: "base")
    rows[2].surrogate = probability
    let table = try DefenseTable.run(DefenseTable.Settings(seeds: 1, classifications: 2, eotSamples: 2, batchSize: 4), base: base,
                                     defenses: rows, attacks: [Self.attacks[0]], data: data)
    let adaptive = try #require(table.cell("region", "fgsm", .adaptive)).accuracy
    let clean = try #require(table.cell("region", "clean", nil)).accuracy
    #expect(adaptive < clean)
    #expect(!table.warnings.contains { $0.hasPrefix("region × fgsm") })
  }

  @Test("prepending a defense layer keeps the base's weights (index-named layers shift by one)")
  func prependingKeepsWeights() throws {
    let spec = ModelSpec(input: [1, 6, 6], classes: 2, layers: [LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 2)])
    let base = try Model(spec: spec, seed: 3)
    var identity = LayerSpec(type: "pixel_deflection")
    try identity.setOption("deflections", 0)
    try identity.setOption("sigma", 0.0)
    let defended = try DefenseTable.prepending(identity, to: base)
    var g = SeededGenerator(seed: 1)
    let x = Tensor.uniform([3, 1, 6, 6], using: &g)
    #expect(withoutGradients { defended(x) }.scalars == withoutGradients { base(x) }.scalars)
  }

  @Test("the table runs on CIFAR-shaped inputs (resnet20, 3×32×32)")
  func cifarShaped() throws {
    let base = try Model(spec: Architecture.resnet20.spec(input: [3, 32, 32], classes: 10), seed: 0)
    base.setMode(.inference)
    var g = SeededGenerator(seed: 2)
    let x = Tensor.uniform([2, 3, 32, 32], using: &g)
    let data = Dataset(name: "synthetic", images: x, labels: withoutGradients { base(x).argmax(alongAxis: 1) },
                       classNames: (0..<10).map(String.init))
    var shrink = LayerSpec(type: "random_resize_pad")
    try shrink.setOption("min_scale", 0.9)
    var deflection = LayerSpec(type: "pixel_deflection")
    try deflection.setOption("deflections", 20)
    let table = try DefenseTable.run(DefenseTable.Settings(seeds: 1, classifications: 1, eotSamples: 1, batchSize: 2), base: base,
                                     defenses: [.init(name: "none", model: base),
                                                .init(name: "randomization", model: try DefenseTable.prepending(shrink, to: base)),
                                                .init(name: "deflection", model: try DefenseTable.prepending(deflection, to: base))],
                                     attacks: [Self.attacks[0]], data: data)
    #expect(table.cells.count == 3 + 3 * 2 && table.count == 2)
    #expect(table.warnings.contains { $0.contains("without EOT") })
  }
}
