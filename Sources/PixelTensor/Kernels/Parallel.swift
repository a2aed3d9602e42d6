import Foundation
import CKernels

/// A mutable pointer that may cross into ``parallelRanges(_:grain:_:)`` chunks; the caller
/// guarantees that each chunk writes a disjoint range.
public struct UnsafeShared<T>: @unchecked Sendable {
  /// The shared pointer.
  public let pointer: UnsafeMutablePointer<T>
  /// Wraps `pointer`.
  public init(_ pointer: UnsafeMutablePointer<T>) { self.pointer = pointer }
}

/// A read-only pointer that may cross into ``parallelRanges(_:grain:_:)`` chunks.
public struct UnsafeSharedConst<T>: @unchecked Sendable {
  /// The shared pointer.
  public let pointer: UnsafePointer<T>
  /// Wraps `pointer`.
  public init(_ pointer: UnsafePointer<T>) { self.pointer = pointer }
}

/// Runs `body` over `0..<count` split into contiguous chunks on the machine's cores.
///
/// Work below `grain` elements per chunk stays on the calling thread: dispatching costs a few
/// microseconds, which only pays for large or compute-bound loops (see BUILD-NOTES §4).
public func parallelRanges(_ count: Int, grain: Int, _ body: @Sendable (Range<Int>) -> Void) {
  let chunks = Swift.min(KernelConfig.workerCount, count / Swift.max(grain, 1))
  parallelChunks(count, chunks: chunks) { _, range in body(range) }
}

/// Runs `body(c, range)` for each of `chunks` contiguous, near-equal parts of `0..<count`, in
/// parallel; `c` numbers the parts in order, e.g. to pick a per-part partial-sum buffer.
///
/// Inside a ``parallelRowBlocks(_:minimumRows:_:)`` block the parts run in order on the calling core:
/// the same parts, so the same bits, without a second level of threads.
func parallelChunks(_ count: Int, chunks: Int, _ body: @Sendable (Int, Range<Int>) -> Void) {
  if chunks <= 1 {
    body(0, 0..<count)
    return
  }
  if KernelConfig.runsInline {
    for c in 0..<chunks { body(c, (count * c / chunks)..<(count * (c + 1) / chunks)) }
    return
  }
  WorkerPool.run(chunks) { c in body(c, (count * c / chunks)..<(count * (c + 1) / chunks)) }
}

/// The kernels' threads: `KernelConfig.workerCount − 1` spinning helpers beside the caller
/// (CKernels/worker_pool.c says why not libdispatch).
enum WorkerPool {
  private static let started: Bool = {
    pr_pool_start(Int32(clamping: KernelConfig.workerCount - 1))
    return true
  }()

  /// Runs `task(i)` for every `i` in `0..<count` across the helpers and the calling thread, and
  /// returns when all have finished; on the calling thread alone, in order, when the pool is busy
  /// (a nested or concurrent call).
  static func run(_ count: Int, _ task: (Int) -> Void) {
    precondition(count <= Int(Int32.max), "pool jobs are counted in Int32")
    _ = started
    withoutActuallyEscaping(task) { task in
      var job = task
      withUnsafeMutablePointer(to: &job) { context in
        pr_pool_run(Int32(count), { context, index in
          context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(index))
        }, context)
      }
    }
  }
}

/// `dst += Σ_part body(part)`: runs `body(range, partial)` on `parts` near-equal parts of
/// `0..<count` in parallel, each adding into its own zeroed `size`-float partial, then adds the
/// partials into `dst` in part order, so sums are reproducible for a given part count. The
/// shape of every parallel reduction onto a small output (bias and weight gradients).
func parallelPartialSums(_ count: Int, parts: Int, size: Int, into dst: UnsafeMutablePointer<Float>,
                         _ body: @Sendable (Range<Int>, UnsafeMutablePointer<Float>) -> Void) {
  let partials = TensorStorage(count: parts * size, repeating: 0)
  let ps = UnsafeShared(partials.base)
  parallelChunks(count, chunks: parts) { part, range in body(range, ps.pointer + part * size) }
  for part in 0..<parts {
    let p = partials.base + part * size
    for i in 0..<size { dst[i] += p[i] }
  }
}

/// Process-wide kernel settings.
public enum KernelConfig {
  /// Threads used by the Swift-side kernels (elementwise, im2col): `PIXELROBUST_THREADS` when
  /// set (1…1024), else the CPUs this process may run on (its affinity mask, which Slurm's and
  /// mpirun's CPU binding narrow), else the online cores.
  public static let workerCount: Int = ProcessInfoCores.workers(environment: ProcessInfo.processInfo.environment)
  /// Elements per chunk below which memory-bound loops stay single-threaded.
  @usableFromInline static let memoryBoundGrain = 1 << 17
  /// GEMMs below this many FLOPs run as one OpenBLAS call on the calling thread.
  @usableFromInline static let parallelGEMMFlops = 1 << 22
  /// Elements per chunk below which transcendental loops (exp, log, tanh) stay single-threaded.
  @usableFromInline static let computeBoundGrain = 1 << 14
  /// Whether this thread runs one block of ``parallelRowBlocks(_:minimumRows:_:)``, where kernels
  /// keep to the calling core.
  @TaskLocal static var runsInline = false
}

enum ProcessInfoCores {
  /// See ``KernelConfig/workerCount``; an unusable `PIXELROBUST_THREADS` is ignored.
  static func workers(environment: [String: String]) -> Int {
    if let text = environment["PIXELROBUST_THREADS"], let n = Int(text), (1...1024).contains(n) { return n }
    return Swift.max(1, allowed ?? active)
  }

  static var active: Int {
    #if canImport(Glibc)
    return Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    #else
    return 1
    #endif
  }

  /// The CPUs of this process's affinity mask, from the `Cpus_allowed` hex mask of
  /// `/proc/self/status` (Glibc's `sched_getaffinity` needs `_GNU_SOURCE`, which Swift's Glibc
  /// module does not define).
  static var allowed: Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed:") }) else { return nil }
    let count = line.dropFirst("Cpus_allowed:".count).reduce(0) { total, c in
      total + (c.hexDigitValue.map { $0.nonzeroBitCount } ?? 0)
    }
    return count > 0 ? count : nil
  }
}

#if canImport(Glibc)
import Glibc
#endif
