import Synchronization
import Testing
import _TestSupport
@testable import PixelTensor

@Suite("parallelRowBlocks")
struct RowBlocksTests {
  @Test("stacks the blocks in row order; blocks cover the rows once, none below the minimum",
        arguments: [(0, 4), (3, 4), (8, 4), (13, 4), (128, 4), (128, 1), (7, 100)])
  func stacksInOrder(count: Int, minimumRows: Int) {
    let seen = Mutex<[Range<Int>]>([])
    let y = parallelRowBlocks(count, minimumRows: minimumRows) { rows in
      seen.withLock { $0.append(rows) }
      return Tensor(rows.map(Float.init), shape: [rows.count, 1])
    }
    #expect(y.scalars == (0..<count).map(Float.init))
    let blocks = seen.withLock { $0.sorted { $0.lowerBound < $1.lowerBound } }
    #expect(blocks.flatMap { Array($0) } == Array(0..<count))
    let expected = Swift.min(2 * KernelConfig.workerCount, count / minimumRows)
    #expect(blocks.count == Swift.max(expected, 1))
    if blocks.count > 1 { #expect(blocks.allSatisfy { $0.count >= minimumRows }) }
  }

  @Test("blocks see the caller's gradient mode and keep their kernels on their core")
  func contextReachesBlocks() {
    for recording in [false, true] {
      let modes = Mutex<[Bool]>([]), inline = Mutex<[Bool]>([])
      let body: @Sendable (Range<Int>) -> Tensor = { rows in
        modes.withLock { $0.append(GradMode.isEnabled) }
        inline.withLock { $0.append(KernelConfig.runsInline) }
        return Tensor.zeros([rows.count])
      }
      _ = recording ? withGradients { parallelRowBlocks(64, minimumRows: 4, body) }
                    : withoutGradients { parallelRowBlocks(64, minimumRows: 4, body) }
      #expect(modes.withLock { $0 }.allSatisfy { $0 == recording })
      if KernelConfig.workerCount > 1 { #expect(inline.withLock { $0 }.allSatisfy { $0 }) }
    }
    #expect(!KernelConfig.runsInline)
  }

  @Test("a kernel split inside a block gives the bits of the same split across the cores")
  func inlineSplitKeepsBits() {
    var rng = SeededGenerator(seed: 3)
    let x = Tensor.normal([8, 16, 32, 32], using: &rng)
    let direct = x.sum(toShape: [1, 16, 1, 1])
    let inBlock = parallelRowBlocks(2, minimumRows: 1) { _ in x.sum(toShape: [1, 16, 1, 1]).reshaped(to: [1, 16]) }
    for r in 0..<inBlock.shape[0] {
      #expect(inBlock.rows(r..<(r + 1)).scalars.map(\.bitPattern) == direct.scalars.map(\.bitPattern))
    }
  }
}
