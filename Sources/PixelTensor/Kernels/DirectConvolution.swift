import CKernels

/// Direct convolution: every output is one chain of fused multiply-adds over its taps in a fixed
/// order (input channel, kernel row, kernel column), so identical patches give identical bits
/// wherever they sit, whatever the batch size, thread count or instruction set (the AVX2 and
/// portable paths of `CKernels` perform the same chain). It also avoids the 9× patch copy of
/// im2col and the col2im pass, which together took 30% of a CIFAR ResNet-20 step.
///
/// The input of each sample is copied once into a zero-padded buffer split into `stride²` phase
/// planes, so a strided convolution reads contiguous rows; the input gradient of a convolution is
/// the convolution of the zero-inserted output gradient with the flipped, transposed kernel.
enum DirectConvolution {
  /// The instruction set the kernels use: `PIXELROBUST_KERNELS=portable` forces plain C (the
  /// same bits, slower), to check the claim above on any machine.
  static let path: PRKernelPath = {
    if let v = getenv("PIXELROBUST_KERNELS"), String(cString: v) == "portable" { return PRKernelPathPortable }
    return PRKernelPathAutomatic
  }()

  /// The name of the path the kernels run on this CPU: `avx2-fma` or `portable`.
  static func pathName(_ p: PRKernelPath = path) -> String { pr_kernel_resolved_path(p) == 2 ? "avx2-fma" : "portable" }

  /// Whether the direct kernels handle `g`: equal strides on both axes (the phase split is
  /// square) and, for the input gradient, padding within the kernel's reach.
  static func handles(_ g: ConvGeometry, inputGradient: Bool) -> Bool {
    guard g.strideY == g.strideX else { return false }
    if !inputGradient { return true }
    return g.paddingY <= (g.kernelHeight - 1) * g.dilationY && g.paddingX <= (g.kernelWidth - 1) * g.dilationX
  }

  /// A convolution of one sample's `channels` planes over a prepared buffer: where the source
  /// planes go in the padded image, the phase split, the taps and the packed weights.
  struct Plan: Sendable {
    var channels: Int, height: Int, width: Int       // source planes
    var insertion: Int, top: Int, left: Int           // placement in the padded image
    var paddedHeight: Int, paddedWidth: Int, stride: Int
    var outChannels: Int, outHeight: Int, outWidth: Int
    var offsets: [Int32]
    var rowPitch: Int
    var bufferCount: Int

    /// `taps` lists `(source channel, row, column)` in the padded image's stride-1 frame, in
    /// summation order.
    init(channels: Int, height: Int, width: Int, insertion: Int, top: Int, left: Int, paddedHeight: Int,
         paddedWidth: Int, stride: Int, outChannels: Int, outHeight: Int, outWidth: Int,
         taps: [(channel: Int, row: Int, column: Int)]) {
      (self.channels, self.height, self.width) = (channels, height, width)
      (self.insertion, self.top, self.left) = (insertion, top, left)
      (self.paddedHeight, self.paddedWidth, self.stride) = (paddedHeight, paddedWidth, stride)
      (self.outChannels, self.outHeight, self.outWidth) = (outChannels, outHeight, outWidth)
      let ph = (paddedHeight + stride - 1) / stride, pw = (paddedWidth + stride - 1) / stride
      let plane = ph * pw, perChannel = plane * stride * stride
      offsets = taps.map { t in
        Int32(t.channel * perChannel + ((t.row % stride) * stride + t.column % stride) * plane
              + (t.row / stride) * pw + t.column / stride)
      }
      rowPitch = pw
      let vectors = (outWidth + 7) / 8
      let lastRead = Int(offsets.max() ?? 0) + (outHeight - 1) * pw + vectors * 8
      bufferCount = Swift.max(channels * perChannel, lastRead)
    }
  }

  /// `y[n] = W ⋆ x[n] + b` for weights `[O, C, kh, kw]`.
  static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>, outChannels o: Int,
                      bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
                      epilogue: (@Sendable (Range<Int>) -> Void)?, kernelPath: PRKernelPath = path) {
    let s = g.strideX
    var taps: [(channel: Int, row: Int, column: Int)] = []
    taps.reserveCapacity(g.patchSize)
    for c in 0..<g.channels {
      for ki in 0..<g.kernelHeight {
        for kj in 0..<g.kernelWidth { taps.append((c, ki * g.dilationY, kj * g.dilationX)) }
      }
    }
    let plan = Plan(channels: g.channels, height: g.height, width: g.width, insertion: 1, top: g.paddingY,
                    left: g.paddingX, paddedHeight: g.height + 2 * g.paddingY, paddedWidth: g.width + 2 * g.paddingX,
                    stride: s, outChannels: o, outHeight: g.outHeight, outWidth: g.outWidth, taps: taps)
    let packed = pack(outChannels: o, taps: taps.count) { oc, t in w[oc * taps.count + t] }
    run(plan, batch: g.batch, source: x, weights: packed, bias: bias, output: y, epilogue: epilogue, kernelPath: kernelPath)
  }

  /// `dx = convᵀ(gy, W)`: the adjoint of ``forward`` in `x`, as the stride-1 convolution of the
  /// zero-inserted, padded `gy` with `W'[c, o, ki, kj] = W[o, c, kh−1−ki, kw−1−kj]`.
  static func inputGradient(_ g: ConvGeometry, gy: UnsafePointer<Float>, w: UnsafePointer<Float>, outChannels o: Int,
                            dx: UnsafeMutablePointer<Float>, kernelPath: PRKernelPath = path) {
    let (kh, kw, c) = (g.kernelHeight, g.kernelWidth, g.channels)
    let reachY = (kh - 1) * g.dilationY, reachX = (kw - 1) * g.dilationX
    var taps: [(channel: Int, row: Int, column: Int)] = []
    taps.reserveCapacity(o * kh * kw)
    for oc in 0..<o {
      for ki in 0..<kh {
        for kj in 0..<kw { taps.append((oc, ki * g.dilationY, kj * g.dilationX)) }
      }
    }
    let plan = Plan(channels: o, height: g.outHeight, width: g.outWidth, insertion: g.strideX,
                    top: reachY - g.paddingY, left: reachX - g.paddingX, paddedHeight: g.height + reachY,
                    paddedWidth: g.width + reachX, stride: 1, outChannels: c, outHeight: g.height, outWidth: g.width,
                    taps: taps)
    let tapsPerChannel = kh * kw
    let packed = pack(outChannels: c, taps: taps.count) { ic, t in
      let oc = t / tapsPerChannel, ki = (t % tapsPerChannel) / kw, kj = t % kw
      return w[((oc * c + ic) * kh + (kh - 1 - ki)) * kw + (kw - 1 - kj)]
    }
    run(plan, batch: g.batch, source: gy, weights: packed, bias: nil, output: dx, epilogue: nil, kernelPath: kernelPath)
  }

  /// Weights in the kernel's layout, `[⌈O/4⌉][taps][4]`, zero past `O`.
  static func pack(outChannels o: Int, taps: Int, _ weight: (Int, Int) -> Float) -> TensorStorage {
    let blocks = (o + 3) / 4
    let packed = TensorStorage(count: blocks * taps * 4, repeating: 0)
    for b in 0..<blocks {
      for j in 0..<Swift.min(4, o - 4 * b) {
        for t in 0..<taps { packed.base[(b * taps + t) * 4 + j] = weight(4 * b + j, t) }
      }
    }
    return packed
  }

  /// Runs `plan` on every sample: samples spread over the workers when there are enough of them,
  /// else each sample's output-channel blocks.
  static func run(_ plan: Plan, batch: Int, source: UnsafePointer<Float>, weights: TensorStorage,
                  bias: UnsafePointer<Float>?, output: UnsafeMutablePointer<Float>,
                  epilogue: (@Sendable (Range<Int>) -> Void)?, kernelPath: PRKernelPath) {
    let src = UnsafeSharedConst(source), out = UnsafeShared(output), bs = bias.map { UnsafeSharedConst($0) }
    let offsets = plan.offsets
    let sourceImage = plan.channels * plan.height * plan.width
    let outImage = plan.outChannels * plan.outHeight * plan.outWidth
    let blocks = (plan.outChannels + 3) / 4
    let workers = KernelConfig.workerCount
    let perSampleWork = blocks * offsets.count * plan.outHeight * plan.outWidth
    let bySample = batch >= workers || perSampleWork < KernelConfig.computeBoundGrain * 64

    @Sendable func compute(_ buffer: UnsafeMutablePointer<Float>, sample n: Int, blocks range: Range<Int>, prepare: Bool) {
      if prepare {
        pr_prepare_planes(src.pointer + n * sourceImage, Int32(plan.channels), Int32(plan.height), Int32(plan.width),
                          Int32(plan.insertion), Int32(plan.top), Int32(plan.left), Int32(plan.paddedHeight),
                          Int32(plan.paddedWidth), Int32(plan.stride), buffer, plan.bufferCount)
      }
      offsets.withUnsafeBufferPointer { offs in
        var conv = PRDirectConvolution(
          input: buffer, inputRowPitch: plan.rowPitch, tapOffsets: offs.baseAddress, taps: Int32(offs.count),
          weights: weights.base, bias: bs?.pointer, outChannels: Int32(plan.outChannels),
          outHeight: Int32(plan.outHeight), outWidth: Int32(plan.outWidth), output: out.pointer + n * outImage,
          outputChannelPitch: plan.outHeight * plan.outWidth, outputRowPitch: plan.outWidth, outputColumnStride: 1,
          path: kernelPath)
        pr_direct_convolution(&conv, Int32(range.lowerBound), Int32(range.count))
      }
    }

    if bySample {
      parallelChunks(batch, chunks: Swift.min(workers, batch)) { _, samples in
        let buffer = TensorStorage(uninitializedCount: plan.bufferCount)
        for n in samples {
          compute(buffer.base, sample: n, blocks: 0..<blocks, prepare: true)
          epilogue?(n..<(n + 1))
        }
      }
      return
    }
    let buffer = TensorStorage(uninitializedCount: plan.bufferCount)
    let shared = UnsafeShared(buffer.base)
    for n in 0..<batch {
      compute(buffer.base, sample: n, blocks: 0..<0, prepare: true)
      parallelChunks(blocks, chunks: Swift.min(workers, blocks)) { _, range in
        compute(shared.pointer, sample: n, blocks: range, prepare: false)
      }
      epilogue?(n..<(n + 1))
    }
  }
}

#if canImport(Glibc)
import Glibc
#endif
