/// One of `count` contiguous, deterministic parts of a data set (`--shard i/n`), for running a
/// data-set-wide job as a Slurm or Kubernetes job array and merging the parts afterwards.
///
/// A shard covers whole batches of the job's batch size, so every example is processed in the
/// same batch as in an unsharded run: with deterministic arithmetic the merged parts reproduce
/// the single run bit for bit, whatever `count` is.
public struct Shard: Sendable, Equatable, Hashable, CustomStringConvertible {
  /// Shard `index` (0-based) of `count`.
  public let index: Int, count: Int

  /// The whole data set as a single part.
  public static let whole = try! Shard(index: 0, count: 1)

  /// The largest `count` accepted: a job array of more parts than this is a typo.
  public static let maximumCount = 1 << 20

  /// - Throws: ``ShardError/invalid(_:)`` unless `0 ≤ index < count ≤ maximumCount`.
  public init(index: Int, count: Int) throws {
    guard count >= 1, count <= Self.maximumCount, index >= 0, index < count else {
      throw ShardError.invalid("\(index)/\(count)")
    }
    self.index = index
    self.count = count
  }

  /// Parses `i/n` (decimal, no sign or spaces).
  public init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
          let i = Int(parts[0]), let n = Int(parts[1]) else { throw ShardError.invalid(text) }
    try self.init(index: i, count: n)
  }

  /// `i/n`.
  public var description: String { "\(index)/\(count)" }

  /// The examples of `total` this shard covers: whole batches of `batchSize`, the batches split
  /// as evenly as possible (the first shards never get fewer than the later ones minus one).
  /// A shard may be empty when there are fewer batches than shards.
  public func range(of total: Int, batchSize: Int) -> Range<Int> {
    precondition(total >= 0 && batchSize >= 1, "a shard needs a non-negative size and a positive batch size")
    let batches = total / batchSize + (total % batchSize == 0 ? 0 : 1)
    // batches · k / count in 128 bits: exact, and the quotient never exceeds `batches`.
    func edge(_ k: Int) -> Int { count.dividingFullWidth(batches.multipliedFullWidth(by: k)).quotient }
    let first = edge(index), last = edge(index + 1)
    let (lo, o1) = first.multipliedReportingOverflow(by: batchSize), (hi, o2) = last.multipliedReportingOverflow(by: batchSize)
    return Swift.min(total, o1 ? total : lo)..<Swift.min(total, o2 ? total : hi)
  }
}

/// A `--shard` value that is not `i/n` with `0 ≤ i < n`.
public enum ShardError: Error, Equatable, CustomStringConvertible {
  case invalid(String)

  public var description: String {
    switch self {
    case let .invalid(s): return "invalid shard '\(s)': use i/n with 0 ≤ i < n ≤ \(Shard.maximumCount)"
    }
  }
}

extension Dataset {
  /// The examples `shard` covers (whole batches of `batchSize`) with their global index range,
  /// keeping the data set's name; without a shard, the data set itself, not copied.
  public func part(_ shard: Shard?, batchSize: Int) -> (range: Range<Int>, data: Dataset) {
    let range = shard?.range(of: count, batchSize: batchSize) ?? 0..<count
    return (range, examples(range))
  }

  /// The contiguous examples `range`, keeping the name; all of them is the data set itself, not copied.
  public func examples(_ range: Range<Int>) -> Dataset {
    if range == 0..<count { return self }
    return Dataset(name: name, images: images.rows(range), labels: Array(labels[range]), classNames: classNames)
  }
}
