import ArgumentParser
import Foundation
import PixelDefenses
import PixelNN

extension PixelRobustCommand {
  /// `pixelrobust defense-table`: Hwang et al.'s defenses × attacks table in two protocols.
  struct DefenseTableCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "defense-table",
      abstract: "Top-1 accuracy of defenses (rows) under attacks (columns), gray-box and adaptive: table.json/csv/md.",
      discussion: """
        Defenses: none; region[:R[:M]] (Cao & Gong: vote of M points uniform in the cube of half-width R, \
        default 0.02 and 100); randomization[:S] (Xie et al.: resize by a factor in [S, 1] and pad, default 0.9); \
        deflection[:N[:W]] (Prakash et al.: N deflections within ±W, Haar BayesShrink at σ 0.04, BPDA; default \
        200 and 10); or a defended checkpoint such as a PRM switch from prm defend (any path ending in \
        .safetensors). Gray-box examples are made on --model; adaptive ones run through each defense, with \
        --eot N on randomized defenses (the region vote, which has no gradient, is attacked through its mean \
        softmax over the same cube) and each example classified --classify R times (worst case kept). \
        With --shard i/n the folder holds one part's counts; `pixelrobust merge` adds the parts up.
        """)

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @OptionGroup var data: DataOptions
    @Option(help: "Defense rows, comma-separated (see the discussion); the undefended model is always the first row.")
    var defenses = CommaList<String>(["region", "randomization", "deflection"])
    @Option(help: "Attack columns, comma-separated: fgsm, pgd, apgd-ce, apgd-dlr, square, onepixel, deepfool, cw, jsma.")
    var attacks = CommaList<AttackChoice>([.onePixel, .jsma, .deepFool, .carliniWagner, .pgd])
    @Option(help: "Protocols, comma-separated: gray-box, adaptive.")
    var protocols = CommaList<ProtocolChoice>([.grayBox, .adaptive])
    @Option(help: "Runs per cell (attack starts and defense draws seeded --seed + s).")
    var seeds = 3
    /// The attacks' parameters (ε of bounded attacks is the first --epsilon).
    @OptionGroup var options: AttackOptions
    @Option(help: "Output folder.")
    var output: String
    @Flag(help: "Continue the table recorded in the output folder's journal.json (same settings, rows, columns, data and model), if there is one.")
    var resume = false
    @OptionGroup var sharding: ShardOptions

    var settings: DefenseTable.Settings {
      DefenseTable.Settings(protocols: protocols.values.map(\.value), seeds: seeds, classifications: options.classify,
                            eotSamples: options.eot, batchSize: options.batchSize, seed: options.seed)
    }

    func validate() throws {
      if let problem = settings.problem { throw ValidationError(problem + ".") }
      guard !attacks.values.isEmpty else { throw ValidationError("give at least one attack in --attacks.") }
      for d in defenses.values { _ = try Self.defense(d) }
    }

    /// A parsed defense row.
    enum Row: Equatable {
      case region(radius: Double, votes: Int), randomization(scale: Double), deflection(count: Int, window: Int), checkpoint(String)
    }

    static func defense(_ text: String) throws -> Row {
      if text.hasSuffix(".safetensors") { return .checkpoint(text) }
      let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      func number(_ i: Int, _ fallback: Double, _ range: ClosedRange<Double>) throws -> Double {
        guard i < parts.count else { return fallback }
        guard let v = Double(parts[i]), v.isFinite, range.contains(v) else {
          throw ValidationError("--defenses \(text): '\(parts[i])' must be a number in \(range.lowerBound)…\(range.upperBound).")
        }
        return v
      }
      switch parts[0] {
      case "region" where parts.count <= 3:
        return .region(radius: try number(1, 0.02, 0.0001...1), votes: Int(try number(2, 100, 1...100_000)))
      case "randomization" where parts.count <= 2: return .randomization(scale: try number(1, 0.9, 0.01...1))
      case "deflection" where parts.count <= 3:
        return .deflection(count: Int(try number(1, 200, 0...1_000_000)), window: Int(try number(2, 10, 1...1000)))
      default:
        throw ValidationError("--defenses: unknown defense '\(text)' (none is always the first row; use region[:R[:M]], "
                              + "randomization[:S], deflection[:N[:W]] or a .safetensors checkpoint).")
      }
    }

    /// The defended classifier of `row` around `base`.
    func build(_ row: Row, base: Model) throws -> DefenseTable.Defense {
      switch row {
      case let .region(r, m):
        func region(_ mode: RandomizedSmoothing.Mode) throws -> Model {
          let (spec, state) = try RandomizedSmoothing.wrap(base, sigma: r, samples: m, mode: mode, noise: .uniform, seed: options.seed)
          let model = try Model(spec: spec, seed: 0, builder: modelBuilder)
          try model.loadState(state, source: self.model)
          return model
        }
        // The vote has no gradient; adaptive attacks differentiate the mean softmax over the same cube.
        return .init(name: "region r=\(r) m=\(m)", model: try region(.vote), surrogate: try region(.probability))
      case let .randomization(scale):
        var layer = LayerSpec(type: "random_resize_pad")
        layer.seed = options.seed
        try layer.setOption("min_scale", scale)
        return .init(name: "randomization s=\(scale)", model: try DefenseTable.prepending(layer, to: base))
      case let .deflection(count, window):
        var layer = LayerSpec(type: "pixel_deflection")
        layer.seed = options.seed
        try layer.setOption("deflections", count)
        try layer.setOption("window", window)
        return .init(name: "deflection n=\(count) w=\(window)", model: try DefenseTable.prepending(layer, to: base))
      case let .checkpoint(path):
        return .init(name: URL(cliPath: path).deletingPathExtension().lastPathComponent, model: try loadCheckpoint(path).model)
      }
    }

    func run() throws {
      let rows = try defenses.values.map(Self.defense)
      let checkpoints = rows.compactMap { if case let .checkpoint(p) = $0 { return p } else { return nil } }
      try OutputCheck.startFolderJob(output: output, inputs: [model] + checkpoints, data: data.data)
      let (base, dataset) = try loadModelAndData(model, data)
      let defended = try [DefenseTable.Defense(name: "none", model: base)] + rows.map { try build($0, base: base) }
      for d in defended where d.model.spec.input != dataset.imageShape || d.model.spec.classes != base.spec.classes {
        throw ValidationError("\(d.name) expects inputs \(d.model.spec.input) and \(d.model.spec.classes) classes; "
                              + "\(model) has \(base.spec.input) and \(base.spec.classes)")
      }
      let columns = attacks.values.map { choice -> DefenseTable.Attack in
        var s = options.settings
        s.method = choice.value
        return DefenseTable.Attack(name: choice.rawValue, settings: s)
      }
      let identity = ["model": model, "model_hash": Checkpoint.contentHash(of: base), "data": dataset.name]
      let table = try DefenseTable.run(settings, base: base, defenses: defended, attacks: columns, data: dataset,
                                       shard: try sharding.value(), folder: URL(cliPath: output),
                                       fingerprint: defended.map { "\($0.name) weights \(Checkpoint.contentHash(of: $0.model))" },
                                       identity: identity, resume: resume, progress: { Console.note($0) })
      print(table.markdown())
    }
  }
}

enum ProtocolChoice: String, ExpressibleByArgument, CaseIterable, CustomStringConvertible {
  case grayBox = "gray-box", adaptive
  var value: DefenseTable.AttackProtocol { DefenseTable.AttackProtocol(rawValue: rawValue)! }
  var description: String { rawValue }
}

