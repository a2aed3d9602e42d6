/// Convolution kernels. The forward pass and the input gradient run as ``DirectConvolution``
/// (position-independent bits), and so does the weight gradient on AVX-512 CPUs. The im2col +
/// GEMM paths below serve the weight gradient on AVX2 CPUs, where OpenBLAS's long inner products
/// beat a direct kernel (measured: a direct AVX2 weight gradient made the resnet20 training step
/// 15% slower), and the forward pass and input gradient of unequal strides, which the direct
/// kernels' square phase split does not cover.
///
/// The im2col paths work on chunks of samples: each chunk's patch matrix and output
/// block stay in cache, and one GEMM covers the whole chunk (`N = samples · L`), so OpenBLAS packs
/// the weights once per chunk instead of once per sample. The price is one in-cache pass that
/// moves the chunk's `[O, samples·L]` block to and from NCHW — cheaper than the per-sample weight
/// packing it replaces, and the forward pass adds the bias in that same pass. Scratch buffers come
/// from the tensor buffer pool, so steady-state steps do not page-fault.
enum ConvolutionKernels {
  /// Samples per chunk: about 128 K floats (512 KB) of patch matrix and output block together,
  /// which leaves room in a 2 MB L2 for OpenBLAS's packed copies (measured: 2¹⁶ and 2¹⁸ were
  /// slower on the small CNN).
  static func chunkSize(_ g: ConvGeometry, outChannels o: Int) -> Int {
    let perSample = (g.patchSize + o) * g.outHeight * g.outWidth
    return Swift.max(1, Swift.min(g.batch, (1 << 17) / Swift.max(perSample, 1)))
  }

  /// The geometry of a chunk of `count` samples.
  static func sub(_ g: ConvGeometry, _ count: Int) -> ConvGeometry {
    var s = g
    s.batch = count
    return s
  }

  /// Splits `0..<g.batch` into chunks and runs `body` on each, the chunks spread over the workers.
  static func forEachChunk(_ g: ConvGeometry, outChannels o: Int, _ body: @Sendable (Range<Int>) -> Void) {
    let size = chunkSize(g, outChannels: o)
    let chunks = (g.batch + size - 1) / size
    parallelRanges(chunks, grain: 1) { r in
      for c in r { body((c * size)..<Swift.min(g.batch, (c + 1) * size)) }
    }
  }

  /// Copies `samples` of the NCHW tensor `nchw` (`[N, O, L]`) into the chunk block `block`
  /// (`[O, samples·L]`, column `(n, l)`).
  @inline(__always)
  static func gatherBlock(_ nchw: UnsafePointer<Float>, samples: Range<Int>, channels o: Int, plane l: Int,
                          block: UnsafeMutablePointer<Float>) {
    let s = samples.count
    for n in 0..<s {
      let src = nchw + (samples.lowerBound + n) * o * l
      for i in 0..<o { (block + i * s * l + n * l).update(from: src + i * l, count: l) }
    }
  }

  /// `y[n, o, :] = block[o, (n, :)] + bias[o]`: the inverse of ``gatherBlock``, with the bias.
  @inline(__always)
  static func scatterBlock(_ block: UnsafePointer<Float>, bias: UnsafePointer<Float>?, samples: Range<Int>,
                           channels o: Int, plane l: Int, nchw: UnsafeMutablePointer<Float>) {
    let s = samples.count
    for n in 0..<s {
      let dst = nchw + (samples.lowerBound + n) * o * l
      for i in 0..<o {
        let src = block + i * s * l + n * l, out = dst + i * l
        if let bias {
          let b = bias[i]
          for j in 0..<l { out[j] = src[j] + b }
        } else {
          out.update(from: src, count: l)
        }
      }
    }
  }

  /// `y[n] = W · patches(x[n]) (+ b)`, `y` `[N, O, oh, ow]`, then the `rectifier` if given.
  /// `epilogue`, if given, runs on each chunk's samples right after their output is written (and
  /// rectified), while it is still in cache.
  static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>, outChannels o: Int,
                      bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, rectifier: Rectifier? = nil,
                      epilogue: (@Sendable (Range<Int>) -> Void)? = nil) {
    if DirectConvolution.handles(g) {
      DirectConvolution.forward(g, x: x, w: w, outChannels: o, bias: bias, y: y, rectifier: rectifier, epilogue: epilogue)
      return
    }
    let xs = UnsafeSharedConst(x), ws = UnsafeSharedConst(w), ys = UnsafeShared(y)
    let bs = bias.map { UnsafeSharedConst($0) }
    let l = g.outHeight * g.outWidth, k = g.patchSize, image = g.channels * g.height * g.width
    forEachChunk(g, outChannels: o) { samples in
      let s = samples.count
      let colsBuffer = TensorStorage(uninitializedCount: k * s * l)
      let blockBuffer = TensorStorage(uninitializedCount: o * s * l)
      Im2Col.forward(sub(g, s), x: xs.pointer + samples.lowerBound * image, cols: colsBuffer.base, parallel: false)
      sgemmSerial(transposeA: false, transposeB: false, m: o, n: s * l, k: k, a: ws.pointer, lda: k,
                  b: colsBuffer.base, ldb: s * l, beta: 0, c: blockBuffer.base, ldc: s * l)
      scatterBlock(blockBuffer.base, bias: bs?.pointer, samples: samples, channels: o, plane: l, nchw: ys.pointer)
      rectifier?.apply(ys.pointer, samples: samples, image: o * l)
      epilogue?(samples)
    }
  }

  /// `dx[n] = col2im(Wᵀ · gy[n])`: the adjoint of ``forward`` in `x` (a transposed convolution).
  static func inputGradient(_ g: ConvGeometry, gy: UnsafePointer<Float>, w: UnsafePointer<Float>, outChannels o: Int,
                            dx: UnsafeMutablePointer<Float>) {
    if DirectConvolution.handles(g) {
      DirectConvolution.inputGradient(g, gy: gy, w: w, outChannels: o, dx: dx)
      return
    }
    let gs = UnsafeSharedConst(gy), ws = UnsafeSharedConst(w), ds = UnsafeShared(dx)
    let l = g.outHeight * g.outWidth, k = g.patchSize, image = g.channels * g.height * g.width
    forEachChunk(g, outChannels: o) { samples in
      let s = samples.count
      let blockBuffer = TensorStorage(uninitializedCount: o * s * l)
      let colsBuffer = TensorStorage(uninitializedCount: k * s * l)
      gatherBlock(gs.pointer, samples: samples, channels: o, plane: l, block: blockBuffer.base)
      sgemmSerial(transposeA: true, transposeB: false, m: k, n: s * l, k: o, a: ws.pointer, lda: k,
                  b: blockBuffer.base, ldb: s * l, beta: 0, c: colsBuffer.base, ldc: s * l)
      Im2Col.backward(sub(g, s), cols: colsBuffer.base, x: ds.pointer + samples.lowerBound * image, parallel: false)
    }
  }

  /// `dW = Σ_n gy[n] · patches(x[n])ᵀ`, `[O, C·kh·kw]`. Each worker sums its chunks; the
  /// partial sums are added in worker order, so results are reproducible on a machine.
  static func weightGradient(_ g: ConvGeometry, x: UnsafePointer<Float>, gy: UnsafePointer<Float>, outChannels o: Int,
                             dw: UnsafeMutablePointer<Float>) {
    if DirectConvolution.handlesWeightGradient(g) {
      DirectConvolution.weightGradient(g, x: x, gy: gy, outChannels: o, dw: dw)
      return
    }
    let l = g.outHeight * g.outWidth, k = g.patchSize, image = g.channels * g.height * g.width
    let size = chunkSize(g, outChannels: o)
    let chunks = (g.batch + size - 1) / size
    let workers = Swift.max(1, Swift.min(KernelConfig.workerCount, chunks))
    let xs = UnsafeSharedConst(x), gs = UnsafeSharedConst(gy)
    dw.initialize(repeating: 0, count: o * k)
    parallelPartialSums(chunks, parts: workers, size: o * k, into: dw) { chunkRange, acc in
      for c in chunkRange {
        let samples = (c * size)..<Swift.min(g.batch, (c + 1) * size)
        let s = samples.count
        let colsBuffer = TensorStorage(uninitializedCount: k * s * l)
        let blockBuffer = TensorStorage(uninitializedCount: o * s * l)
        Im2Col.forward(sub(g, s), x: xs.pointer + samples.lowerBound * image, cols: colsBuffer.base, parallel: false)
        gatherBlock(gs.pointer, samples: samples, channels: o, plane: l, block: blockBuffer.base)
        // acc += gy_chunk · cols_chunkᵀ: one GEMM whose inner extent spans the chunk.
        sgemmSerial(transposeA: false, transposeB: true, m: o, n: k, k: s * l, a: blockBuffer.base, lda: s * l,
                    b: colsBuffer.base, ldb: s * l, beta: 1, c: acc, ldc: k)
      }
    }
  }
}
