import Foundation

/// Where a data set comes from: `fashion-mnist`, `idx:DIR`, `cifar10:DIR`, `cifar100:DIR`
/// or `folder:DIR`.
public enum DataSource: Equatable, Sendable, CustomStringConvertible {
  /// Fashion-MNIST from the Debian package `dataset-fashion-mnist`.
  case fashionMNIST
  case idx(URL)
  case cifar10(URL)
  case cifar100(URL)
  case folder(URL)

  /// The folder the Debian package installs Fashion-MNIST into.
  public static let fashionMNISTDirectory = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
  public static let fashionMNISTClasses = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                                           "Sneaker", "Bag", "Ankle boot"]

  /// Parses the `--data` syntax.
  public init(parsing text: String) throws {
    if text == "fashion-mnist" { self = .fashionMNIST; return }
    guard let colon = text.firstIndex(of: ":") else { throw DataError.invalidSource(text) }
    let kind = text[..<colon], path = String(text[text.index(after: colon)...])
    guard !path.isEmpty else { throw DataError.invalidSource(text) }
    let url = URL(fileURLWithPath: path)
    switch kind {
    case "idx": self = .idx(url)
    case "cifar10": self = .cifar10(url)
    case "cifar100": self = .cifar100(url)
    case "folder": self = .folder(url)
    default: throw DataError.invalidSource(text)
    }
  }

  public var description: String {
    switch self {
    case .fashionMNIST: return "fashion-mnist"
    case .idx(let u): return "idx:\(u.path)"
    case .cifar10(let u): return "cifar10:\(u.path)"
    case .cifar100(let u): return "cifar100:\(u.path)"
    case .folder(let u): return "folder:\(u.path)"
    }
  }

  /// Whether `url` is (or would be) one of the files this source reads: an output there would
  /// destroy the data. Paths are compared after resolving symbolic links.
  public func reads(_ url: URL) -> Bool {
    let path = url.standardizedFileURL.resolvingSymlinksInPath().path
    func inside(_ folder: URL) -> Bool { path.hasPrefix(folder.standardizedFileURL.resolvingSymlinksInPath().path + "/") }
    let name = url.lastPathComponent.lowercased()
    switch self {
    case .fashionMNIST: return inside(Self.fashionMNISTDirectory)
    case .idx(let dir):
      return inside(dir) && (name.hasSuffix("-idx3-ubyte") || name.hasSuffix("-idx1-ubyte")
                             || name.hasSuffix("-idx3-ubyte.gz") || name.hasSuffix("-idx1-ubyte.gz"))
    case .cifar10(let dir), .cifar100(let dir): return inside(dir) && name.hasSuffix(".bin")
    case .folder(let dir): return inside(dir) && ImageFolder.extensions.contains((name as NSString).pathExtension.lowercased())
    }
  }

  /// Loads `split`, keeping the first `limit` examples in file order when given; `channels`
  /// converts image folders to a model's channel count, and `preprocessing` resizes and crops them.
  public func load(split: Split, limit: Int? = nil, channels: Int? = nil,
                   preprocessing: ImageFolder.Preprocessing = .init()) throws -> Dataset {
    var data: Dataset
    switch self {
    case .fashionMNIST:
      let dir = Self.fashionMNISTDirectory
      guard FileManager.default.fileExists(atPath: dir.path) else {
        throw DataError.missing(path: dir.path, what: "Fashion-MNIST (install the Debian package dataset-fashion-mnist, or run `make setup`)")
      }
      data = try IDX.dataset(directory: dir, split: split, name: "fashion-mnist", classNames: Self.fashionMNISTClasses)
    case .idx(let dir): data = try IDX.dataset(directory: dir, split: split, name: "idx:\(dir.path)")
    case .cifar10(let dir): data = try CIFARBinary.cifar10(directory: dir, split: split)
    case .cifar100(let dir): data = try CIFARBinary.cifar100(directory: dir, split: split)
    case .folder(let dir): data = try ImageFolder.dataset(root: dir, split: split, channels: channels, preprocessing: preprocessing)
    }
    try data.checkLabels(classes: data.classCount)
    if let limit { data = data.prefix(limit) }
    return data
  }
}
