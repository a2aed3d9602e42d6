import Foundation
import Testing
@testable import PixelFuzzTargets

/// What `make test` runs of the fuzzing: every committed corpus file through its target, in this
/// process and without sanitizers, so a regression in a parser shows in CI. (`make fuzz` runs the
/// instrumented targets for minutes.)
@Suite("Fuzz corpora replay")
struct CorpusReplayTests {
  static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Corpus")

  @Test("every target has a seed corpus and returns normally on each of its files", arguments: FuzzTargets.all.map(\.name))
  func replay(_ name: String) throws {
    let folder = Self.corpus.appendingPathComponent(name)
    let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
    #expect(files.count >= 3, "\(name): only \(files.count) seeds")
    let target = try #require(FuzzTargets.all.first { $0.name == name }).run
    for file in files {
      let data = try Data(contentsOf: folder.appendingPathComponent(file))
      target(data)
      // Truncations and single-byte flips of each seed (deterministic, bounded) must be survived too.
      for cut in stride(from: 0, to: data.count, by: Swift.max(1, data.count / 16)) { target(data.prefix(cut)) }
      for position in stride(from: 0, to: data.count, by: Swift.max(1, data.count / 32)) {
        var flipped = data
        flipped[position] ^= 0xA5
        target(flipped)
      }
    }
  }
}
