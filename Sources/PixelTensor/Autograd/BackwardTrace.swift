import Synchronization

/// A record of what reverse passes computed: one entry per VJP, with the input cotangents it
/// produced. For tests (pruning is observable) and profiling.
public final class BackwardTrace: Sendable {
  /// One VJP call.
  public struct Entry: Sendable {
    /// The primitive's case name, e.g. `"matmul"`.
    public let primitive: String
    /// For each input, whether its cotangent was computed.
    public let computed: [Bool]
  }

  private let storage = Mutex<[Entry]>([])

  /// The trace that reverse passes in this task append to, if any.
  @TaskLocal public static var current: BackwardTrace?

  /// An empty trace.
  public init() {}

  /// Every VJP recorded so far, in execution order.
  public var entries: [Entry] { storage.withLock { $0 } }

  func append(_ entry: Entry) { storage.withLock { $0.append(entry) } }

  /// Runs `body` with a fresh trace and returns its result and the trace's entries.
  public static func recording<R>(_ body: () throws -> R) rethrows -> (result: R, entries: [Entry]) {
    let trace = BackwardTrace()
    let result = try $current.withValue(trace, operation: body)
    return (result, trace.entries)
  }
}

extension Primitive {
  /// The case name without associated values.
  var name: String {
    let full = String(describing: self)
    return full.firstIndex(of: "(").map { String(full[..<$0]) } ?? full
  }
}
