import ArgumentParser
import Foundation
import PixelAnalysis

extension PixelRobustCommand {
  /// `pixelrobust masked-sweep`: robust accuracy against k for top-k, bottom-k and random-k masks.
  struct MaskedSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "masked-sweep",
      abstract: "Attack only the top-k / bottom-k / random-k % pixels of a gradient map for several k: table.json, table.csv, table.md, plot.png.",
      discussion: "Every ε of --epsilon and every PGD of --steps gets its own table. The folder also holds outcomes.json "
        + "(every example's outcome per cell); with --shard i/n it holds one part, and `pixelrobust merge` combines the parts.")

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: "Gradient map (G.npy) the pixels are ranked by.")
    var map: String
    @Option(help: "Percentages k of pixels, comma-separated, each in (0, 100].")
    var fractions = CommaList<Double>([5, 10, 25, 50, 100])
    @Option(help: "Mask kinds, comma-separated: top, bottom, random.")
    var kinds = CommaList<MaskKindChoice>([.top, .bottom, .random])
    @Option(name: [.customLong("random-masks"), .customLong("random-seeds")],
            help: "Random masks per k (mean ± std over them); --random-seeds is the old spelling.")
    var randomMasks = 3
    @OptionGroup var options: AttackOptions
    @Option(help: "Output folder.")
    var output: String
    @OptionGroup var sharding: ShardOptions

    var percents: [Double] { fractions.values }

    func validate() throws {
      try options.requireBounded("masked-sweep")
      guard percents.allSatisfy({ $0 > 0 && $0 <= 100 }) else {
        throw ValidationError("--fractions must be percentages in (0, 100], e.g. 5,10,25.")
      }
      guard randomMasks >= 1 else { throw ValidationError("--random-masks must be at least 1.") }
    }

    func run() throws {
      try OutputCheck.startFolderJob(output: output, inputs: [model, map], data: data.data)
      let (net, dataset) = try loadModelAndData(model, data)
      let mapTensor = try GradientMapFile.read(from: URL(cliPath: map))
      let sweep = MaskedSweep(kinds: kinds.values.map(\.value), percents: percents, randomSeeds: randomMasks)
      let meter = Console.ImageMeter("masked sweep")
      let job = MaskedSweepJob(sweep: sweep, settings: options.settings, shard: try sharding.value())
      let (rows, markdown) = try job.run(model: net, modelName: model, data: dataset, map: mapTensor, mapName: map,
                                         into: URL(cliPath: output), progress: { Console.note("  \($0)") }, imagesDone: meter.update)
      Console.note(meter.summary)
      print(markdown)
      if let bad = rows.first(where: { $0.maxOffMaskChange != 0 }) {
        Console.note("warning: pixels off the \(bad.kind)-\(bad.percent)% mask changed by \(bad.maxOffMaskChange)")
      }
    }
  }
}

enum MaskKindChoice: String, ExpressibleByArgument, CaseIterable, CustomStringConvertible {
  case top, bottom, random
  var value: MaskedSweep.Kind { MaskedSweep.Kind(rawValue: rawValue)! }
  var description: String { rawValue }
}
