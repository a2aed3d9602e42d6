import PixelTensor

/// A labelled image set held in memory: images `[N, C, H, W]` with pixels in `[0, 1]`.
public struct Dataset: Sendable {
  /// An identity string for reports, e.g. `"fashion-mnist:test"`.
  public var name: String
  /// `[N, C, H, W]`, pixels in `[0, 1]`.
  public var images: Tensor
  /// One class index per image.
  public var labels: [Int]
  /// Names of the classes, indexed by label.
  public var classNames: [String]

  /// A data set of `images` `[N, C, H, W]` in `[0, 1]` with one label per image.
  public init(name: String, images: Tensor, labels: [Int], classNames: [String]) {
    precondition(images.rank == 4 && images.shape[0] == labels.count, "images [N, C, H, W] need N labels")
    self.name = name
    self.images = images
    self.labels = labels
    self.classNames = classNames
  }

  /// The number of examples.
  public var count: Int { labels.count }
  /// The number of classes.
  public var classCount: Int { classNames.count }
  /// `[C, H, W]` of one image.
  public var imageShape: [Int] { Array(images.shape.dims.dropFirst()) }

  /// The first `n` examples in file order (all of them when `n` is larger).
  public func prefix(_ n: Int) -> Dataset {
    let k = Swift.min(Swift.max(n, 0), count)
    return Dataset(name: name + (k < count ? "[:\(k)]" : ""), images: images.rows(0..<k),
                   labels: Array(labels[0..<k]), classNames: classNames)
  }

  /// The examples at `indices`, in that order.
  public func subset(_ indices: [Int]) -> Dataset {
    Dataset(name: name, images: images.rows(at: indices), labels: indices.map { labels[$0] }, classNames: classNames)
  }

  /// Checks that every label lies in `0..<classes` (a model's class count, or the data set's).
  /// - Throws: ``DataError/labelOutOfRange(source:index:label:classes:)`` for the first that does not.
  public func checkLabels(classes: Int) throws {
    if let i = labels.firstIndex(where: { $0 < 0 || $0 >= classes }) {
      throw DataError.labelOutOfRange(source: name, index: i, label: labels[i], classes: classes)
    }
  }

  /// Examples per class.
  public var classCounts: [Int] {
    var c = [Int](repeating: 0, count: classCount)
    for y in labels where y >= 0 && y < classCount { c[y] += 1 }
    return c
  }
}

/// Which part of a data set to load.
public enum Split: String, Sendable, CaseIterable {
  case train, test
}
