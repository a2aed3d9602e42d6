import Dispatch
import Synchronization
import Testing
@testable import PixelTensor

@Suite("WorkerPool")
struct WorkerPoolTests {
  /// Runs a pool job of `count` tasks and returns how often each index ran.
  static func runCounts(_ count: Int, nested: Int = 0) -> [Int] {
    let counts = Mutex([Int](repeating: 0, count: count))
    WorkerPool.run(count) { i in
      if nested > 0 {
        let inner = runCounts(nested)
        precondition(inner == [Int](repeating: 1, count: nested))
      }
      counts.withLock { $0[i] += 1 }
    }
    return counts.withLock { $0 }
  }

  @Test("runs every index exactly once", arguments: [0, 1, 2, 3, 17, 1000])
  func everyIndexOnce(count: Int) {
    #expect(Self.runCounts(count) == [Int](repeating: 1, count: count))
  }

  @Test("a task's own job runs on its thread, whole")
  func nestedJobs() {
    #expect(Self.runCounts(8, nested: 5) == [Int](repeating: 1, count: 8))
  }

  @Test("callers on several threads each get all of their indices")
  func concurrentCallers() {
    let failures = Atomic<Int>(0)
    DispatchQueue.concurrentPerform(iterations: 4) { caller in
      for job in 0..<200 {
        let count = 1 + (caller * 7 + job) % 40
        if Self.runCounts(count) != [Int](repeating: 1, count: count) { failures.add(1, ordering: .relaxed) }
      }
    }
    #expect(failures.load(ordering: .relaxed) == 0)
  }

  @Test("parallelChunks gives each part its range, whoever runs it", arguments: [(10, 3), (128, 2), (5, 5), (1000, 7)])
  func chunkRanges(count: Int, chunks: Int) {
    let ranges = Mutex([Range<Int>?](repeating: nil, count: chunks))
    parallelChunks(count, chunks: chunks) { c, range in ranges.withLock { $0[c] = range } }
    let expected = (0..<chunks).map { c in (count * c / chunks)..<(count * (c + 1) / chunks) }
    #expect(ranges.withLock { $0 } == expected)
  }
}
