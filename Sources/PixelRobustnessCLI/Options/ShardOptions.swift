import ArgumentParser
import PixelData

/// `--shard i/n`, shared by every data-set-wide command: run only the i-th of n contiguous parts
/// (whole batches) and write a partial result that `pixelrobust merge` combines.
struct ShardOptions: ParsableArguments {
  @Option(help: "Process only shard i of n (contiguous whole batches, 0 ≤ i < n) and write a partial result for `pixelrobust merge`.")
  var shard: String?

  func validate() throws { _ = try value() }

  /// The parsed shard, if any.
  func value() throws -> Shard? {
    do { return try shard.map { try Shard(parsing: $0) } } catch { throw ValidationError("\(error).") }
  }
}
