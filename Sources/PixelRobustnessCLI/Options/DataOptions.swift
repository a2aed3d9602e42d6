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

  @Option(help: "folder: data: resize each image's shorter side to S pixels first (Pillow's antialiased bilinear, as torchvision's Resize).")
  var resize: Int?

  @Option(help: "folder: data: then keep the centred C×C square (torchvision's CenterCrop).")
  var centerCrop: Int?

  /// The largest --resize or --center-crop: 2¹⁴ pixels a side.
  static let maximumSide = 1 << 14

  func validate() throws {
    if let limit, limit < 1 { throw ValidationError("--limit must be at least 1.") }
    let source: DataSource
    do { source = try DataSource(parsing: data) } catch { throw ValidationError("\(error)") }
    for (name, value) in [("--resize", resize), ("--center-crop", centerCrop)] {
      guard let value else { continue }
      guard (1...Self.maximumSide).contains(value) else { throw ValidationError("\(name) must be in 1...\(Self.maximumSide).") }
      guard case .folder = source else { throw ValidationError("\(name) applies to folder: data only.") }
    }
    if let resize, let centerCrop, centerCrop > resize {
      throw ValidationError("--center-crop \(centerCrop) is larger than --resize \(resize).")
    }
  }

  func source() throws -> DataSource { try DataSource(parsing: data) }

  func load(split override: Split? = nil, channels: Int? = nil) throws -> Dataset {
    try source().load(split: override ?? split.value, limit: limit, channels: channels,
                      preprocessing: ImageFolder.Preprocessing(resize: resize, centerCrop: centerCrop))
  }
}

enum SplitChoice: String, ExpressibleByArgument, CaseIterable {
  case train, test
  var value: Split { self == .train ? .train : .test }
}
