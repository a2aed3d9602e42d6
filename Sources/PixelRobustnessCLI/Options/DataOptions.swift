import ArgumentParser
import PixelData

/// `--data`, `--split` and `--limit`, shared by every command that reads a data set.
struct DataOptions: ParsableArguments {
  @Option(help: ArgumentHelp(SharedHelp.data))
  var data: String = "fashion-mnist"

  @Option(help: "Split to use: train or test.")
  var split: SplitChoice = .test

  @Option(help: "Use only the first N examples of the split (file order).")
  var limit: Int?

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
    do { _ = try DataSource(parsing: data) } catch { throw ValidationError("\(error)") }
  }

  func source() throws -> DataSource { try DataSource(parsing: data) }

  func load(split override: Split? = nil, channels: Int? = nil) throws -> Dataset {
    try source().load(split: override ?? split.value, limit: limit, channels: channels)
  }
}

enum SplitChoice: String, ExpressibleByArgument, CaseIterable {
  case train, test
  var value: Split { self == .train ? .train : .test }
}
