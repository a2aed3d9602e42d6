import ArgumentParser
import Foundation
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelMasks
import PixelNN
import PixelTensor

extension PixelRobustCommand {
  /// `pixelrobust masked-sweep`: robust accuracy against k for top-k, bottom-k and random-k masks.
  struct MaskedSweepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "masked-sweep",
      abstract: "Attack only the top-k / bottom-k / random-k % pixels of a gradient map for several k: table.json, table.csv, table.md, plot.png.")

    @Option(help: "Model checkpoint (.safetensors).")
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: "Gradient map (G.npy).")
    var map: String
    @Option(help: "Percentages k of pixels, comma-separated.")
    var fractions: String = "5,10,25,50,100"
    @Option(help: "Mask kinds, comma-separated: top, bottom, random.")
    var kinds: String = "top,bottom,random"
    @Option(help: "Random masks per k (mean ± std over seeds).")
    var randomSeeds = 3
    @OptionGroup var options: AttackOptions
    @Option(help: "Output folder.")
    var output: String

    var percents: [Double] { fractions.split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) } }
    var kindList: [MaskedSweep.Kind] { kinds.split(separator: ",").compactMap { MaskedSweep.Kind(rawValue: String($0)) } }

    func validate() throws {
      guard !percents.isEmpty, percents.count == fractions.split(separator: ",").count, percents.allSatisfy({ $0 > 0 && $0 <= 100 }) else {
        throw ValidationError("--fractions must be percentages in (0, 100], e.g. 5,10,25.")
      }
      guard !kindList.isEmpty, kindList.count == kinds.split(separator: ",").count else {
        throw ValidationError("--kinds must be a list of top, bottom, random.")
      }
      guard options.epsilons.count == 1 else { throw ValidationError("masked-sweep takes one --epsilon.") }
      guard randomSeeds >= 1 else { throw ValidationError("--random-seeds must be at least 1.") }
    }

    func run() throws {
      Console.announceRuntime()
      let (net, dataset) = try loadModelAndData(model, data)
      let mapTensor = try NumPy.read(from: URL(cliPath: map))
      let (mh, mw, _) = PixelMask.pixelValues(mapTensor)
      guard mh == dataset.imageShape[1], mw == dataset.imageShape[2] else {
        throw ValidationError("the map is \(mh)×\(mw), the images are \(dataset.imageShape[1])×\(dataset.imageShape[2])")
      }
      let attack = try options.makeAttack()
      let eps = options.epsilons[0]
      let sweep = MaskedSweep(kinds: kindList, percents: percents, randomSeeds: randomSeeds)
      let rows = try sweep.run(model: net, data: dataset, map: mapTensor, attack: attack, norm: options.norm.value,
                               epsilon: eps, runner: options.runner) { Console.note("  \($0)") }
      let folder = URL(cliPath: output)
      let title = "\(attack.name) \(options.norm.rawValue) eps=\(eps) on \(dataset.name) (\(dataset.count) images)"
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try AtomicFile.write(encoder.encode(rows), to: folder.appendingPathComponent("table.json"))
      try AtomicFile.write(Data(MaskedSweep.csv(rows).utf8), to: folder.appendingPathComponent("table.csv"))
      let md = MaskedSweep.markdown(rows, title: title)
      try AtomicFile.write(Data(md.utf8), to: folder.appendingPathComponent("table.md"))
      try MaskedSweep.plot(rows, title: title).write(to: folder.appendingPathComponent("plot.png"))
      print(md)
      if let bad = rows.first(where: { $0.maxOffMaskChange != 0 }) {
        Console.note("warning: pixels off the \(bad.kind)-\(bad.percent)% mask changed by \(bad.maxOffMaskChange)")
      }
    }
  }
}
