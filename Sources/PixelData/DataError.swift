/// A data set that cannot be loaded; every case names the file or folder and the problem.
public enum DataError: Error, Equatable, CustomStringConvertible {
  case invalidSource(String)
  case missing(path: String, what: String)
  case ambiguous(path: String, candidates: [String])
  case badMagic(path: String, detail: String)
  case truncated(path: String, detail: String)
  case countMismatch(images: String, imageCount: Int, labels: String, labelCount: Int)
  case empty(path: String, reason: String)
  case unreadableImage(path: String, reason: String)
  case mixedSizes(path: String, detail: String)
  case unreadable(path: String, reason: String)
  /// Example `index` of `source` has `label`, outside the `classes` classes it is used with.
  case labelOutOfRange(source: String, index: Int, label: Int, classes: Int)
  /// The labels of an unnamed data set leave classes without any example (a stray label).
  case classGap(path: String, detail: String)

  public var description: String {
    switch self {
    case let .invalidSource(s):
      return "invalid data source '\(s)': use fashion-mnist, idx:DIR, cifar10:DIR, cifar100:DIR or folder:DIR"
    case let .missing(p, w): return "\(p): \(w) not found"
    case let .ambiguous(p, c): return "\(p): several candidate files (\(c.joined(separator: ", "))); keep one"
    case let .badMagic(p, d): return "\(p): not an IDX file of the expected kind: \(d)"
    case let .truncated(p, d): return "\(p): truncated: \(d)"
    case let .countMismatch(i, n, l, m): return "\(i) holds \(n) images but \(l) holds \(m) labels"
    case let .empty(p, r): return "\(p): \(r)"
    case let .unreadableImage(p, r): return "\(p): unreadable image: \(r)"
    case let .mixedSizes(p, d): return "\(p): images of different sizes: \(d)"
    case let .unreadable(p, r): return "\(p): cannot read: \(r)"
    case let .labelOutOfRange(s, i, l, k):
      return "\(s): example \(i) has label \(l), outside the \(k) classes 0..<\(k) (of the model or the data set's class names)"
    case let .classGap(p, d): return "\(p): \(d)"
    }
  }
}
