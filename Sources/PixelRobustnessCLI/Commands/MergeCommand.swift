import ArgumentParser
import Foundation
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelDefenses
import PixelTraining

extension PixelRobustCommand {
  /// `pixelrobust merge`: combine the shard folders of one sharded job into the result one
  /// unsharded run writes.
  struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "merge",
      abstract: "Merge the shard folders of a --shard i/n job into the result one unsharded run writes.",
      discussion: """
        Recognises the kind of partial result from the folders' manifests (evaluate, gradient-map, attack, minimal-attack, \
        masked-sweep, transfer, smooth predict, smooth certify, defense-table) and writes exactly what one \
        unsharded run writes (smoothing, minimal attacks and the defense table: but for their timing columns). Refuses a missing, repeated or foreign shard (another model digest, data \
        set, setting or seed) and an unfinished one (no complete manifest), naming the folder.
        """)

    @Argument(help: "The shard folders (any order), e.g. run/shard-*.")
    var folders: [String]
    @Option(help: "Output folder.")
    var output: String

    func validate() throws {
      guard !folders.isEmpty else { throw ValidationError("give the shard folders to merge.") }
    }

    func run() throws {
      try OutputCheck(folders: [output], inputs: folders).run()
      let urls = folders.map { URL(cliPath: $0) }
      let kind = try PartialResult(folder: urls[0]).kind
      let out = URL(cliPath: output)
      print("merging \(urls.count) \(kind) shards into \(output)")
      switch kind {
      case GradientMapJob.kind:
        let (acc, _, files) = try GradientMapJob.merge(urls, into: out)
        print("\(acc.count) images; wrote " + files.joined(separator: ", "))
      case EvaluationJob.kind:
        print(try EvaluationJob.merge(urls, into: out).summary)
      case MaskedSweepJob.kind:
        print(try MaskedSweepJob.merge(urls, into: out))
      case TransferJob.kind:
        print(try TransferJob.merge(urls, into: out))
      case DefenseTable.partialKind:
        print(try DefenseTable.merge(urls, into: out).markdown())
      case MinimalAttackJob.kind:
        print(try MinimalAttackJob.merge(urls, into: out).markdown)
      case AttackJob.kind:
        print(try AttackJob.merge(urls, into: out).markdown)
      case CertificationJob.partialKind(.predict), CertificationJob.partialKind(.certify):
        print(try CertificationJob.merge(urls, into: out))
      default:
        throw PartialResultError.unsupportedKind(folder: urls[0].path, kind: kind)
      }
    }
  }
}
