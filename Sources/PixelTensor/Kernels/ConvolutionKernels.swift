/// Convolution kernels that work on chunks of samples: each chunk's patch matrix stays in
/// cache, one GEMM per sample reads its block of it in place, and outputs land directly in
/// NCHW — no batch-sized im2col buffer and no permute pass over the activations. Scratch buffers come
/// from the tensor buffer pool, so steady-state steps do not page-fault.
enum ConvolutionKernels {
  /// Samples per chunk: about 256 K floats of patch matrix.
  static func chunkSize(_ g: ConvGeometry) -> Int {
    Swift.max(1, Swift.min(g.batch, (1 << 18) / Swift.max(g.patchSize * g.outHeight * g.outWidth, 1)))
  }

  /// The geometry of samples `range` alone.
  static func sub(_ g: ConvGeometry, _ count: Int) -> ConvGeometry {
    var s = g
    s.batch = count
    return s
  }

  /// Splits `0..<g.batch` into chunks and runs `body` on each, the chunks spread over the workers.
  static func forEachChunk(_ g: ConvGeometry, _ body: @Sendable (Range<Int>) -> Void) {
    let size = chunkSize(g)
    let chunks = (g.batch + size - 1) / size
    parallelRanges(chunks, grain: 1) { r in
      for c in r { body((c * size)..<Swift.min(g.batch, (c + 1) * size)) }
    }
  }

  /// `y[n] = W · patches(x[n]) (+ b)`, `y` `[N, O, oh, ow]`.
  static func forward(_ g: ConvGeometry, x: UnsafePointer<Float>, w: UnsafePointer<Float>, outChannels o: Int,
                      bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>) {
    let xs = UnsafeSharedConst(x), ws = UnsafeSharedConst(w), ys = UnsafeShared(y)
    let bs = bias.map { UnsafeSharedConst($0) }
    let l = g.outHeight * g.outWidth, k = g.patchSize, image = g.channels * g.height * g.width
    forEachChunk(g) { samples in
      let s = samples.count
      let sg = sub(g, s)
      let colsBuffer = TensorStorage(uninitializedCount: k * s * l)
      let cols = colsBuffer.base
      Im2Col.forward(sg, x: xs.pointer + samples.lowerBound * image, cols: cols, parallel: false)
      // One GEMM per sample, reading its column block (ldb = s·L) and writing its [O, L] image:
      // no permute of the output.
      for n in 0..<s {
        let y = ys.pointer + (samples.lowerBound + n) * o * l
        if let bs { for i in 0..<o { (y + i * l).initialize(repeating: bs.pointer[i], count: l) } }
        sgemmSerial(transposeA: false, transposeB: false, m: o, n: l, k: k, a: ws.pointer, lda: k, b: cols + n * l,
                    ldb: s * l, beta: bs == nil ? 0 : 1, c: y, ldc: l)
      }
    }
  }

  /// `dx[n] = col2im(Wᵀ · gy[n])`: the adjoint of ``forward`` in `x` (a transposed convolution).
  static func inputGradient(_ g: ConvGeometry, gy: UnsafePointer<Float>, w: UnsafePointer<Float>, outChannels o: Int,
                            dx: UnsafeMutablePointer<Float>) {
    let gs = UnsafeSharedConst(gy), ws = UnsafeSharedConst(w), ds = UnsafeShared(dx)
    let l = g.outHeight * g.outWidth, k = g.patchSize, image = g.channels * g.height * g.width
    forEachChunk(g) { samples in
      let s = samples.count
      let sg = sub(g, s)
      let colsBuffer = TensorStorage(uninitializedCount: k * s * l)
      let cols = colsBuffer.base
      // dcols[:, n-block] = Wᵀ · gy[n], each gy[n] read in place.
      for n in 0..<s {
        sgemmSerial(transposeA: true, transposeB: false, m: k, n: l, k: o, a: ws.pointer, lda: k,
                    b: gs.pointer + (samples.lowerBound + n) * o * l, ldb: l, beta: 0, c: cols + n * l, ldc: s * l)
      }
      Im2Col.backward(sg, cols: cols, x: ds.pointer + samples.lowerBound * image, parallel: false)
    }
  }

  /// `dW = Σ_n gy[n] · patches(x[n])ᵀ`, `[O, C·kh·kw]`. Each worker sums its chunks; the
  /// partial sums are added in worker order, so results are reproducible on a machine.
  static func weightGradient(_ g: ConvGeometry, x: UnsafePointer<Float>, gy: UnsafePointer<Float>, outChannels o: Int,
                             dw: UnsafeMutablePointer<Float>) {
    let l = g.outHeight * g.outWidth, k = g.patchSize, image = g.channels * g.height * g.width
    let size = chunkSize(g)
    let chunks = (g.batch + size - 1) / size
    let workers = Swift.max(1, Swift.min(KernelConfig.workerCount, chunks))
    let partials = UnsafeMutablePointer<Float>.allocate(capacity: workers * o * k)
    defer { partials.deallocate() }
    partials.initialize(repeating: 0, count: workers * o * k)
    let xs = UnsafeSharedConst(x), gs = UnsafeSharedConst(gy), ps = UnsafeShared(partials)
    parallelRanges(workers, grain: 1) { wr in
      for worker in wr {
        let acc = ps.pointer + worker * o * k
        for c in stride(from: worker, to: chunks, by: workers) {
          let samples = (c * size)..<Swift.min(g.batch, (c + 1) * size)
          let s = samples.count
          let colsBuffer = TensorStorage(uninitializedCount: k * s * l)
          let cols = colsBuffer.base
          Im2Col.forward(sub(g, s), x: xs.pointer + samples.lowerBound * image, cols: cols, parallel: false)
          // acc += gy[n] · cols_nᵀ for each sample, gy[n] read in place.
          for n in 0..<s {
            sgemmSerial(transposeA: false, transposeB: true, m: o, n: k, k: l, a: gs.pointer + (samples.lowerBound + n) * o * l,
                        lda: l, b: cols + n * l, ldb: s * l, beta: 1, c: acc, ldc: k)
          }
        }
      }
    }
    dw.update(from: partials, count: o * k)
    for worker in 1..<workers {
      let p = partials + worker * o * k
      for i in 0..<(o * k) { dw[i] += p[i] }
    }
  }
}
