import CKernels

/// Direct convolution: every output is one chain of fused multiply-adds over its taps in a fixed
/// order (input channel, kernel row, kernel column), so identical patches give identical bits
/// wherever they sit, whatever the batch size, thread count or instruction set (the AVX-512, AVX2
/// and portable paths of `CKernels` perform the same chain). It also avoids the 9× patch copy of
/// im2col and the col2im pass, which together took 30% of a CIFAR ResNet-20 step.
///
/// The input of each sample is copied once into a zero-padded buffer split into `stride²` phase
/// planes, so a strided convolution reads contiguous rows; the input gradient of a convolution is
/// a convolution of the padded output gradient with the flipped, transposed kernel (one per
/// output phase when strided).
enum DirectConvolution {
  /// The instruction set the kernels use: `PIXELROBUST_KERNELS=portable` forces plain C and
  /// `=avx2` caps an AVX-512 CPU at AVX2 (the same bits, slower), to check the claim above on
  /// any machine; tests scope a choice with ``withPath(_:_:)``.
  static var path: PRKernelPath { pathOverride ?? environmentPath }

  private static let environmentPath: PRKernelPath = {
    switch getenv("PIXELROBUST_KERNELS").map({ String(cString: $0) }) {
    case "portable": return PRKernelPathPortable
    case "avx2": return PRKernelPathAVX2
    default: return PRKernelPathAutomatic
    }
  }()

  @TaskLocal private static var pathOverride: PRKernelPath?

  /// Runs `body` with the kernels on `path` (read where a kernel is called, so it reaches the
  /// worker threads a kernel splits into).
  static func withPath<T>(_ path: PRKernelPath, _ body: () throws -> T) rethrows -> T {
    try $pathOverride.withValue(path, operation: body)
  }


  /// Whether the direct kernels handle `g`: equal strides on both axes (the phase split is square).
  static func handles(_ g: ConvGeometry) -> Bool {
    g.strideY == g.strideX
  }

  /// Where one sample's source planes go in the prepared buffer: `channels` planes of
  /// `height × width` at (`top`, `left`) of a zero `paddedHeight × paddedWidth` image, split into
  /// `stride²` phase planes.
  struct Placement: Sendable {
    var channels: Int, height: Int, width: Int
    var top: Int, left: Int
    var paddedHeight: Int, paddedWidth: Int, stride = 1

    var phaseHeight: Int { (paddedHeight + stride - 1) / stride }
    var phaseWidth: Int { (paddedWidth + stride - 1) / stride }

    /// Writes one sample's planes (`channels × height × width` at `source`) into `buffer` of
    /// `count` floats: zero padding, phase split, zeros in the slack past the planes. With
    /// `reused`, `buffer` holds a previous sample's planes of this placement, and only the
    /// source values are written (the zeros are already there).
    func prepare(_ source: UnsafePointer<Float>, into buffer: UnsafeMutablePointer<Float>, count: Int, reused: Bool) {
      pr_prepare_planes(source, Int32(channels), Int32(height), Int32(width), Int32(top), Int32(left),
                        Int32(paddedHeight), Int32(paddedWidth), Int32(stride), buffer, count, reused ? 1 : 0)
    }

    /// The buffer offset of `(channel, row, column)` of the padded image.
    func offset(channel: Int, row: Int, column: Int) -> Int {
      let plane = phaseHeight * phaseWidth
      return channel * plane * stride * stride + ((row % stride) * stride + column % stride) * plane
        + (row / stride) * phaseWidth + column / stride
    }
  }

  /// One kernel call per sample: its taps in summation order, packed weights, and where its
  /// outputs go within a sample's output (`[outChannels, …]`, the given pitches).
  struct Pass: Sendable {
    var offsets: [Int32]
    var weights: TensorStorage
    var outHeight: Int, outWidth: Int
    var outputOffset = 0, channelPitch: Int, rowPitch: Int, columnStride = 1
  }

  /// The placement, the passes, and the buffer they read.
  struct Plan: Sendable {
    var placement: Placement
    var outChannels: Int
    var outputImage: Int
    var passes: [Pass]
    var bufferCount: Int

    init(placement: Placement, outChannels: Int, outputImage: Int, passes: [Pass]) {
      (self.placement, self.outChannels, self.outputImage, self.passes) = (placement, outChannels, outputImage, passes)
      bufferCount = Self.bufferCount(placement, reads: passes.map { ($0.offsets, $0.outHeight, $0.outWidth) })
    }

    /// The floats one sample's prepared buffer needs: its planes, and the farthest read of any
    /// pass (the kernels read whole vectors of up to 16 lanes, up to 15 floats past a row's end).
    static func bufferCount(_ placement: Placement, reads: [(offsets: [Int32], outHeight: Int, outWidth: Int)]) -> Int {
      let pw = placement.phaseWidth
      let farthest = reads.filter { $0.outHeight > 0 && $0.outWidth > 0 }.map { r in
        Int(r.offsets.max() ?? 0) + (r.outHeight - 1) * pw + (r.outWidth + 15) / 16 * 16
      }
      let planes = placement.channels * placement.phaseHeight * pw * placement.stride * placement.stride
      return Swift.max(planes, farthest.max() ?? 0)
    }
  }

  /// `y[n] = W ⋆ x[n] + b` for weights `[O, C, kh, kw]`.
  static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>, outChannels o: Int,
                      bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, rectifier: Rectifier? = nil,
                      epilogue: (@Sendable (Range<Int>) -> Void)?, kernelPath: PRKernelPath = path) {
    let (placement, offsets) = forwardTaps(g)
    let taps = g.patchSize
    // The kernel's rectifier counts a block's 4 output planes in Int32.
    precondition(rectifier == nil || 4 * g.outHeight * g.outWidth <= Int(Int32.max), "output planes too large to rectify")
    let pass = Pass(offsets: offsets, weights: pack(rows: w, outChannels: o, taps: taps),
                    outHeight: g.outHeight, outWidth: g.outWidth, channelPitch: g.outHeight * g.outWidth,
                    rowPitch: g.outWidth)
    let plan = Plan(placement: placement, outChannels: o, outputImage: o * g.outHeight * g.outWidth, passes: [pass])
    run(plan, batch: g.batch, source: x, bias: bias, output: y, rectifier: rectifier, epilogue: epilogue,
        kernelPath: kernelPath)
  }

  /// The forward pass's placement and its taps' buffer offsets in summation order (input
  /// channel, kernel row, kernel column: the OIHW order of a weight's `C·kh·kw` entries).
  static func forwardTaps(_ g: ConvGeometry) -> (Placement, [Int32]) {
    let placement = Placement(channels: g.channels, height: g.height, width: g.width, top: g.paddingY, left: g.paddingX,
                              paddedHeight: g.height + 2 * g.paddingY, paddedWidth: g.width + 2 * g.paddingX,
                              stride: g.strideX)
    var offsets: [Int32] = []
    offsets.reserveCapacity(g.patchSize)
    for c in 0..<g.channels {
      for ki in 0..<g.kernelHeight {
        for kj in 0..<g.kernelWidth {
          offsets.append(Int32(placement.offset(channel: c, row: ki * g.dilationY, column: kj * g.dilationX)))
        }
      }
    }
    return (placement, offsets)
  }

  /// Whether the direct weight gradient serves `g`: equal strides and an AVX-512 CPU. With
  /// AVX2 a direct weight gradient made the resnet20 training step 15% slower than im2col +
  /// OpenBLAS, so AVX2 machines keep that route.
  static func handlesWeightGradient(_ g: ConvGeometry) -> Bool {
    handles(g) && pr_kernel_resolved_path(path) == 3
  }

  /// Samples whose prepared planes the weight gradient holds at once (the sums do not depend on it).
  static let weightGradientChunk = 16

  /// `dW[o, t] = Σ_n Σ_(y, x) gy[n, o, y, x]·x_n[tap t at (y, x)]`, `[O, C·kh·kw]`: the adjoint of
  /// ``forward`` in `W`, read from the same prepared planes as the forward pass (no im2col).
  ///
  /// Each (channel, tap) pair sums in 16 lanes, one FMA chain per lane over the samples in order
  /// (prepared ``weightGradientChunk`` at a time), and the lanes are added at the end. The work is
  /// split over the workers by tiles of channels × taps, each with its own sums, so the result is
  /// the same for every thread count and every path.
  static func weightGradient(_ g: ConvGeometry, x: UnsafePointer<Float>, gy: UnsafePointer<Float>, outChannels o: Int,
                             dw: UnsafeMutablePointer<Float>, kernelPath: PRKernelPath = path) {
    let (placement, offsets) = forwardTaps(g)
    let taps = offsets.count, plane = g.outHeight * g.outWidth
    let count = Plan.bufferCount(placement, reads: [(offsets, g.outHeight, g.outWidth)])
    let chunk = weightGradientChunk
    let partials = TensorStorage(count: o * taps * 16, repeating: 0)
    let buffers = TensorStorage(uninitializedCount: Swift.min(chunk, g.batch) * count)
    let tiles = Int(pr_weight_gradient_tiles(Int32(o), Int32(taps)))
    let workers = KernelConfig.workerCount
    let src = UnsafeSharedConst(x), grads = UnsafeSharedConst(gy), sums = UnsafeShared(partials.base)
    let planes = UnsafeShared(buffers.base), p = placement
    let sourceImage = p.channels * p.height * p.width
    offsets.withUnsafeBufferPointer { offs in
      let tapOffsets = UnsafeSharedConst(offs.baseAddress!)
      for start in stride(from: 0, to: g.batch, by: chunk) {
        let samples = Swift.min(chunk, g.batch - start)
        parallelChunks(samples, chunks: Swift.min(workers, samples)) { _, range in
          for i in range {
            p.prepare(src.pointer + (start + i) * sourceImage, into: planes.pointer + i * count, count: count,
                      reused: start > 0)
          }
        }
        parallelChunks(tiles, chunks: Swift.min(workers, tiles)) { _, range in
          var plan = PRWeightGradient(
            inputs: planes.pointer, inputImage: count, inputRowPitch: p.phaseWidth, tapOffsets: tapOffsets.pointer,
            taps: Int32(taps), outputGradients: grads.pointer + start * o * plane, samples: Int32(samples),
            outChannels: Int32(o), outHeight: Int32(g.outHeight), outWidth: Int32(g.outWidth), partials: sums.pointer,
            path: kernelPath)
          pr_weight_gradient(&plan, Int32(range.lowerBound), Int32(range.count))
        }
      }
    }
    pr_weight_gradient_finish(partials.base, o * taps, dw)
  }

  /// `dx = convᵀ(gy, W)`: the adjoint of ``forward`` in `x`.
  ///
  /// `dx[c, iy, ix] = Σ W[o, c, ki, kj]·gy[o, oy, ox]` over `oy·s − p + ki·d = iy` (and the same
  /// in x). For stride `s`, the outputs with `iy ≡ ry`, `ix ≡ rx (mod s)` form one stride-1
  /// convolution of the padded `gy` with just the taps that reach them — `s²` passes, no
  /// multiplications by inserted zeros.
  static func inputGradient(_ g: ConvGeometry, gy: UnsafePointer<Float>, w: UnsafePointer<Float>, outChannels o: Int,
                            dx: UnsafeMutablePointer<Float>, kernelPath: PRKernelPath = path) {
    let (kh, kw, c, s) = (g.kernelHeight, g.kernelWidth, g.channels, g.strideX)
    // Per axis and phase r: the kernel indices that reach rows ≡ r, each with its source row
    // shift δ (dx row s·i + r reads gy row i + δ).
    func reach(_ r: Int, kernel: Int, padding: Int, dilation: Int) -> [(k: Int, shift: Int)] {
      (0..<kernel).compactMap { k in
        let t = r + padding - k * dilation
        return t.isMultiple(of: s) ? (k, t >= 0 ? t / s : -((-t) / s)) : nil
      }
    }
    let rows = (0..<s).map { reach($0, kernel: kh, padding: g.paddingY, dilation: g.dilationY) }
    let columns = (0..<s).map { reach($0, kernel: kw, padding: g.paddingX, dilation: g.dilationX) }
    let top = Swift.max(0, -(rows.flatMap { $0.map(\.shift) }.min() ?? 0))
    let left = Swift.max(0, -(columns.flatMap { $0.map(\.shift) }.min() ?? 0))
    func phaseCount(_ r: Int, _ extent: Int) -> Int { r < extent ? (extent - r + s - 1) / s : 0 }
    let neededHeight = (0..<s).map { r in phaseCount(r, g.height) + top + (rows[r].map(\.shift).max() ?? 0) }.max() ?? 0
    let neededWidth = (0..<s).map { r in phaseCount(r, g.width) + left + (columns[r].map(\.shift).max() ?? 0) }.max() ?? 0
    let placement = Placement(channels: o, height: g.outHeight, width: g.outWidth, top: top, left: left,
                              paddedHeight: Swift.max(g.outHeight + top, neededHeight),
                              paddedWidth: Swift.max(g.outWidth + left, neededWidth))
    var passes: [Pass] = []
    for ry in 0..<s {
      for rx in 0..<s {
        let taps = (0..<o).flatMap { oc in rows[ry].flatMap { r in columns[rx].map { col in (oc, r, col) } } }
        let offsets = taps.map { t in
          Int32(placement.offset(channel: t.0, row: t.1.shift + top, column: t.2.shift + left))
        }
        let weights = pack(outChannels: c, taps: taps.count) { ic, t in
          let (oc, r, col) = taps[t]
          return w[((oc * c + ic) * kh + r.k) * kw + col.k]
        }
        passes.append(Pass(offsets: offsets, weights: weights, outHeight: phaseCount(ry, g.height),
                           outWidth: phaseCount(rx, g.width), outputOffset: ry * g.width + rx,
                           channelPitch: g.height * g.width, rowPitch: s * g.width, columnStride: s))
      }
    }
    let plan = Plan(placement: placement, outChannels: c, outputImage: c * g.height * g.width, passes: passes)
    run(plan, batch: g.batch, source: gy, bias: nil, output: dx, epilogue: nil, kernelPath: kernelPath)
  }

  /// `w[O, taps]` (row-major: OIHW) in the kernel's layout, as ``pack(outChannels:taps:_:)``.
  /// Every forward pass packs its weights, and each block of an inference batch its own copy:
  /// through the general closure, with checked index arithmetic per element, this was 2% of a
  /// ResNet-20 inference profile; here a row is read in order and written 4 floats apart.
  static func pack(rows w: UnsafePointer<Float>, outChannels o: Int, taps: Int) -> TensorStorage {
    let blocks = (o + 3) / 4
    let packed = TensorStorage(uninitializedCount: Swift.max(1, blocks * taps * 4))
    // Every lane is written once: the channels' weights, then zeros in the last block's lanes past O.
    for oc in 0..<(blocks * 4) {
      let dst = packed.base + (oc / 4) * taps * 4 + oc % 4
      if oc < o {
        let src = w + oc * taps
        for t in 0..<taps { dst[t &* 4] = src[t] }
      } else {
        for t in 0..<taps { dst[t &* 4] = 0 }
      }
    }
    if blocks * taps == 0 { packed.base[0] = 0 }
    return packed
  }

  /// Weights in the kernel's layout, `[⌈O/4⌉][taps][4]`, zero past `O`.
  static func pack(outChannels o: Int, taps: Int, _ weight: (Int, Int) -> Float) -> TensorStorage {
    let blocks = (o + 3) / 4
    let packed = TensorStorage(count: Swift.max(1, blocks * taps * 4), repeating: 0)
    for b in 0..<blocks {
      for j in 0..<Swift.min(4, o - 4 * b) {
        for t in 0..<taps { packed.base[(b * taps + t) * 4 + j] = weight(4 * b + j, t) }
      }
    }
    return packed
  }

  /// Runs `plan` on every sample: samples spread over the workers when there are enough of them,
  /// else each sample's output-channel blocks. The kernel applies the `rectifier` to each block
  /// of channels it has written (its buffers are laid out like `output`).
  static func run(_ plan: Plan, batch: Int, source: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                  output: UnsafeMutablePointer<Float>, rectifier: Rectifier? = nil,
                  epilogue: (@Sendable (Range<Int>) -> Void)?, kernelPath: PRKernelPath) {
    let src = UnsafeSharedConst(source), out = UnsafeShared(output), bs = bias.map { UnsafeSharedConst($0) }
    let p = plan.placement
    let sourceImage = p.channels * p.height * p.width
    let blocks = (plan.outChannels + 3) / 4
    let workers = KernelConfig.workerCount
    let perSampleWork = plan.passes.reduce(0) { $0 + blocks * $1.offsets.count * $1.outHeight * $1.outWidth }
    let bySample = batch >= workers || perSampleWork < KernelConfig.computeBoundGrain * 64

    @Sendable func prepare(_ buffer: UnsafeMutablePointer<Float>, sample n: Int, reused: Bool) {
      p.prepare(src.pointer + n * sourceImage, into: buffer, count: plan.bufferCount, reused: reused)
    }
    // Each call's private scratch (the AVX-512 kernel's copy of narrow rows), the largest pass's.
    let scratchCount = plan.passes.map {
      pr_direct_convolution_scratch(Int32($0.offsets.count), Int32($0.outHeight), Int32($0.outWidth), kernelPath)
    }.max() ?? 0
    @Sendable func compute(_ buffer: UnsafeMutablePointer<Float>, scratch: TensorStorage?, sample n: Int,
                           blocks range: Range<Int>) {
      for pass in plan.passes where pass.outHeight > 0 && pass.outWidth > 0 {
        pass.offsets.withUnsafeBufferPointer { offs in
          let at = n * plan.outputImage + pass.outputOffset
          var conv = PRDirectConvolution(
            input: buffer, inputRowPitch: p.phaseWidth, tapOffsets: offs.baseAddress, taps: Int32(offs.count),
            weights: pass.weights.base, bias: bs?.pointer, outChannels: Int32(plan.outChannels),
            outHeight: Int32(pass.outHeight), outWidth: Int32(pass.outWidth),
            output: out.pointer + at, outputChannelPitch: pass.channelPitch,
            outputRowPitch: pass.rowPitch, outputColumnStride: pass.columnStride, path: kernelPath,
            scratch: scratch?.base, rectify: rectifier == nil ? 0 : 1, adding: rectifier?.adding.map { $0 + at },
            mask: rectifier?.mask.map { $0 + at })
          pr_direct_convolution(&conv, Int32(range.lowerBound), Int32(range.count))
        }
      }
    }
    @Sendable func makeScratch() -> TensorStorage? { scratchCount > 0 ? TensorStorage(uninitializedCount: scratchCount) : nil }

    if bySample {
      parallelChunks(batch, chunks: Swift.min(workers, batch)) { _, samples in
        let buffer = TensorStorage(uninitializedCount: plan.bufferCount), scratch = makeScratch()
        for n in samples {
          prepare(buffer.base, sample: n, reused: n > samples.lowerBound)
          compute(buffer.base, scratch: scratch, sample: n, blocks: 0..<blocks)
          epilogue?(n..<(n + 1))
        }
      }
      return
    }
    let buffer = TensorStorage(uninitializedCount: plan.bufferCount)
    let shared = UnsafeShared(buffer.base)
    let scratches = (0..<workers).map { _ in makeScratch() }
    for n in 0..<batch {
      prepare(buffer.base, sample: n, reused: n > 0)
      parallelChunks(blocks, chunks: Swift.min(workers, blocks)) { chunk, range in
        compute(shared.pointer, scratch: scratches[chunk], sample: n, blocks: range)
      }
      epilogue?(n..<(n + 1))
    }
  }
}

extension KernelConfig {
  /// The instruction set the direct convolution and row GEMM run here: `avx512f`, `avx2-fma` or
  /// `portable` (`PIXELROBUST_KERNELS=avx2` or `=portable` caps it; all give the same bits).
  public static var directKernels: String {
    switch pr_kernel_resolved_path(DirectConvolution.path) {
    case 3: return "avx512f"
    case 2: return "avx2-fma"
    default: return "portable"
    }
  }
}

#if canImport(Glibc)
import Glibc
#endif
