import CBLAS
import PixelAnalysis
import PixelAttacks
import PixelData
import PixelDefenses
import PixelNN
import PixelTensor
import PixelTraining

/// The engine benchmark behind `pixelrobust bench`: GEMM against OpenBLAS called directly,
/// the convolutions of a small CNN at batch 128, per-op overhead and elementwise throughput.
public struct EngineBenchmarks {
  /// Timed runs per figure (after one warm-up run); the report gives medians.
  public var repeats: Int
  /// Smaller problem sizes, for a smoke test of the benchmark itself.
  public var quick: Bool

  /// Only benchmarks whose group name contains this string (`sgemm`, `conv2d`, `small-cnn`,
  /// `resnet20`, `wrn-16-4`, `analysis`, `attacks`, `smoothing`, `overhead`, `elementwise`); `nil` runs all.
  public var filter: String?

  public init(repeats: Int = 7, quick: Bool = false, filter: String? = nil) {
    precondition(repeats >= 1, "repeats must be at least 1")
    self.repeats = repeats
    self.quick = quick
    self.filter = filter
  }

  func wants(_ group: String) -> Bool { filter.map { group.contains($0) } ?? true }

  /// Runs every benchmark, calling `progress` with each figure's name before it runs.
  public func run(progress: (String) -> Void = { _ in }) -> BenchmarkReport {
    var rng = SeededGenerator(seed: 42)
    var results: [BenchmarkResult] = []
    func add(_ r: BenchmarkResult) { results.append(r) }

    let gemmShapes = quick ? [(64, 64, 64)] : [(1024, 1024, 1024), (256, 2304, 1024)]
    for (m, k, n) in gemmShapes where wants("sgemm") {
      progress("sgemm \(m)x\(k)x\(n)")
      add(sgemmDirect(m: m, k: k, n: n, using: &rng))
      add(sgemmEngine(m: m, k: k, n: n, using: &rng))
    }
    let batch = quick ? 4 : 128
    let layers = [
      ConvLayer(name: "conv1", inChannels: 1, outChannels: 32, size: 28, needsInputGradient: false),
      ConvLayer(name: "conv2", inChannels: 32, outChannels: 64, size: 13, needsInputGradient: true),
    ]
    for layer in layers where wants("conv2d") {
      progress("conv2D \(layer.name)")
      add(contentsOf: convolution(layer, batch: batch, using: &rng))
    }
    if wants("small-cnn") {
      progress("small CNN model")
      add(contentsOf: network("small-cnn", spec: Architecture.smallCNN.spec(input: [1, 28, 28], classes: 10), batch: batch,
                              using: &rng))
    }
    // The CIFAR networks of the seed papers, on 3×32×32 inputs (8×8 for the quick smoke test).
    let cifar = quick ? [3, 8, 8] : [3, 32, 32]
    for (name, spec) in [("resnet20", Architecture.resnet20.spec(input: cifar, classes: 10)),
                         ("wrn-16-4", Architecture.wideResNet.spec(input: cifar, classes: 10, depth: 16, width: 4))]
      where wants(name) {
      progress("\(name) model")
      add(contentsOf: network(name, spec: spec, batch: quick ? 4 : 128, using: &rng))
    }
    if wants("analysis") {
      progress("gradient map and PGD-20")
      add(contentsOf: analysis(images: quick ? 256 : 10_000, batch: batch, using: &rng))
    }
    if wants("attacks") {
      progress("DeepFool and C&W")
      add(contentsOf: minimalAttacks(batch: batch, using: &rng))
    }
    if wants("smoothing") {
      progress("randomized smoothing")
      add(contentsOf: smoothing(batch: batch, using: &rng))
    }
    if wants("overhead") {
      progress("per-op overhead")
      add(contentsOf: overhead())
    }
    if wants("elementwise") {
      progress("elementwise")
      add(contentsOf: elementwise(count: quick ? 1 << 12 : 1 << 22, using: &rng))
    }

    return report(results)

    func add(contentsOf more: [BenchmarkResult]) { results.append(contentsOf: more) }
  }

  /// The report of `results` with this machine's environment.
  func report(_ results: [BenchmarkResult]) -> BenchmarkReport {
    let environment = BenchmarkEnvironment.current(
      blasCore: BLASRuntime.coreName, blasThreads: BLASRuntime.threadCount,
      blasConfig: BLASRuntime.configuration, workers: KernelConfig.workerCount)
    return BenchmarkReport(environment: environment, results: results, peakMemoryMiB: ProcessMemory.peakResidentMiB)
  }

  func result(_ name: String, _ detail: String, _ times: [Double], flops: Double? = nil,
              items: Double? = nil, bytes: Double? = nil, perItem: Bool = false) -> BenchmarkResult {
    let median = Stopwatch.median(times)
    return BenchmarkResult(
      name: name, detail: detail, medianMilliseconds: median * 1e3, minimumMilliseconds: times[0] * 1e3,
      samples: times.count, gflopsPerSecond: flops.map { $0 / median / 1e9 },
      itemsPerSecond: perItem ? nil : items.map { $0 / median },
      gigabytesPerSecond: bytes.map { $0 / median / 1e9 },
      microsecondsPerItem: perItem ? items.map { median / $0 * 1e6 } : nil)
  }

  // MARK: GEMM

  func sgemmDirect(m: Int, k: Int, n: Int, using rng: inout SeededGenerator) -> BenchmarkResult {
    let a = Tensor.uniform([m, k], using: &rng).scalars, b = Tensor.uniform([k, n], using: &rng).scalars
    var c = [Float](repeating: 0, count: m * n)
    // The baseline is OpenBLAS as one would call it: one call, its own threads on every core.
    let engineThreads = openblas_get_num_threads()
    openblas_set_num_threads(Int32(KernelConfig.workerCount))
    defer { openblas_set_num_threads(engineThreads) }
    let times = Stopwatch.samples(repeats: repeats) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k), 1, a, Int32(k),
                  b, Int32(n), 0, &c, Int32(n))
    }
    return result("sgemm.openblas-direct.\(m)x\(k)x\(n)", "one cblas_sgemm on all cores into a reused buffer (M×K×N)",
                  times, flops: 2 * Double(m * k * n))
  }

  func sgemmEngine(m: Int, k: Int, n: Int, using rng: inout SeededGenerator) -> BenchmarkResult {
    let a = Tensor.uniform([m, k], using: &rng), b = Tensor.uniform([k, n], using: &rng)
    let times = Stopwatch.samples(repeats: repeats) { _ = matmul(a, b) }
    return result("sgemm.engine.\(m)x\(k)x\(n)", "Tensor matmul, new output tensor each call (M×K×N)",
                  times, flops: 2 * Double(m * k * n))
  }

  // MARK: Convolution

  struct ConvLayer {
    var name: String, inChannels: Int, outChannels: Int, size: Int, needsInputGradient: Bool
  }

  func convolution(_ l: ConvLayer, batch: Int, using rng: inout SeededGenerator) -> [BenchmarkResult] {
    let x = Tensor.uniform([batch, l.inChannels, l.size, l.size], using: &rng)
    let w = Tensor.normal([l.outChannels, l.inChannels, 3, 3], standardDeviation: 0.1, using: &rng)
    let b = Tensor.zeros([l.outChannels])
    let out = l.size - 2
    let forwardFlops = 2 * Double(batch * l.outChannels * l.inChannels * 9 * out * out)
    let shape = "\(l.inChannels)→\(l.outChannels), 3×3 on \(l.size)×\(l.size), batch \(batch)"
    let forward = Stopwatch.samples(repeats: repeats) { _ = conv2D(x, weight: w, bias: b) }
    let wl = w.requiringGradient(), bl = b.requiringGradient()
    let xl = l.needsInputGradient ? x.requiringGradient() : x
    let cotangent = Tensor.normal([batch, l.outChannels, out, out], using: &rng)
    let targets = l.needsInputGradient ? [wl, bl, xl] : [wl, bl]
    let both = Stopwatch.samples(repeats: repeats) {
      let y = conv2D(xl, weight: wl, bias: bl)
      _ = vectorJacobianProducts(of: y, wrt: targets, cotangent: cotangent)
    }
    let backwardFactor: Double = l.needsInputGradient ? 2 : 1
    return [
      result("conv2d.\(l.name).forward", "forward, \(shape)", forward, flops: forwardFlops, items: Double(batch)),
      result("conv2d.\(l.name).forward-backward",
             "forward + backward (∂W, ∂b\(l.needsInputGradient ? ", ∂x" : "")), \(shape)",
             both, flops: forwardFlops * (1 + backwardFactor), items: Double(batch)),
    ]
  }

  /// A network as a ``Model`` at `batch`: one step of the ``Trainer`` that `train` runs (Adam 1e-3,
  /// cross-entropy, batch norm in training mode, all parameter gradients, update), the same step
  /// under input-gradient regularization (double backprop), one inference forward pass, one input
  /// gradient `∂CE/∂x` as attacks and gradient maps take it (``Model/inputGradient(_:loss:)``) and
  /// PGD-10. Each figure also records the peak resident memory while it ran.
  func network(_ name: String, spec: ModelSpec, batch: Int, using rng: inout SeededGenerator) -> [BenchmarkResult] {
    let model = try! Model(spec: spec, seed: 0)
    let x = Tensor.uniform(Shape([batch] + spec.input), using: &rng)
    let labels = (0..<batch).map { $0 % spec.classes }
    let settings = TrainingSettings(data: "uniform", batchSize: batch)
    let trainer = Trainer(model: model, optimizer: settings.makeOptimizer(), objective: StandardTraining(), settings: settings)
    let parameters = trainer.trainableParameters
    var objectiveRNG = SeededGenerator(seed: 1)
    var peaks: [Double?] = []
    func measured(_ body: () -> Void) -> [Double] {
      ProcessMemory.resetPeak()
      let times = Stopwatch.samples(repeats: repeats, body)
      peaks.append(ProcessMemory.peakResidentMiB)
      return times
    }
    trainer.enterTrainingMode()
    let train = measured {
      trainer.step(inputs: x, labels: labels, learningRate: settings.learningRate, parameters: parameters, using: &objectiveRNG)
    }
    let regularized = Trainer(model: model, optimizer: settings.makeOptimizer(), objective: InputGradientRegularization(lambda: 1),
                              settings: settings)
    let doubleBackprop = measured {
      regularized.step(inputs: x, labels: labels, learningRate: settings.learningRate, parameters: parameters, using: &objectiveRNG)
    }
    model.setMode(.inference)
    let infer = measured { withoutGradients { _ = model(x) } }
    let inputGradient = measured {
      _ = model.inputGradient(x) { logits, rows in crossEntropy(logits: logits, labels: Array(labels[rows]), reduction: .sum) }
    }
    let threat = try! ThreatModel(norm: .lInfinity, epsilon: 8.0 / 255)
    let pgd = try! PGD(steps: 10, stepSize: 2.0 / 255)
    let attack = measured {
      var r = SeededGenerator(seed: 0)
      _ = pgd.perturb(x, criterion: .misclassification(labels: labels), within: threat, model: model, using: &r)
    }
    let shape = spec.input.map(String.init).joined(separator: "×")
    var results = [
      result("\(name).train-step", "Adam step of \(name) (forward, backward, update; batch norm in training mode) on \(shape) at batch \(batch)",
             train, items: Double(batch)),
      result("\(name).double-backprop-step",
             "Adam step of \(name) under CE + λ·mean‖∇ₓCE‖² (double backprop) at batch \(batch); "
             + String(format: "%.2f× the plain step", Stopwatch.median(doubleBackprop) / Stopwatch.median(train)),
             doubleBackprop, items: Double(batch)),
      result("\(name).evaluate", "inference forward of \(name) at batch \(batch)", infer, items: Double(batch)),
      result("\(name).input-gradient", "∂CE/∂x of \(name) at batch \(batch) (one attack step's gradient)",
             inputGradient, items: Double(batch)),
      result("\(name).pgd-10", "PGD-10 (L∞, ε = 8/255) on a batch of \(batch) through \(name); rate in images/s", attack,
             items: Double(batch)),
    ]
    for i in results.indices { results[i].peakMemoryMiB = peaks[i] }
    return results
  }

  /// The jobs users come for, on the small CNN: the dataset-mean gradient map over `images`
  /// images (batches of 256) and PGD-20 on a batch.
  func analysis(images: Int, batch: Int, using rng: inout SeededGenerator) -> [BenchmarkResult] {
    let model = try! Model(spec: Architecture.smallCNN.spec(input: [1, 28, 28], classes: 10), seed: 0)
    model.setMode(.inference)
    let data = Dataset(name: "uniform", images: Tensor.uniform([images, 1, 28, 28], using: &rng),
                       labels: (0..<images).map { $0 % 10 }, classNames: (0..<10).map(String.init))
    let mapRepeats = Swift.max(1, Swift.min(repeats, 3))
    let map = Stopwatch.samples(repeats: mapRepeats) { _ = InputGradientMap.accumulate(model: model, data: data, batchSize: 256) }
    let x = data.images.rows(0..<Swift.min(batch, images)), labels = Array(data.labels.prefix(batch))
    let threat = try! ThreatModel(norm: .lInfinity, epsilon: 0.1)
    let pgd = try! PGD(steps: 20, stepSize: 0.01)
    let attack = Stopwatch.samples(repeats: repeats) {
      var r = SeededGenerator(seed: 0)
      _ = pgd.perturb(x, criterion: .misclassification(labels: labels), within: threat, model: model, using: &r)
    }
    var pgdResult = result("pgd-20.small-cnn", "PGD-20 (L∞) on a batch of \(x.shape[0]) through small-cnn; rate in images/s",
                           attack, items: Double(x.shape[0]))
    pgdResult.detail += String(format: "; %.0f gradient evaluations/s", Double(x.shape[0] * 20) / Stopwatch.median(attack))
    return [
      result("gradient-map.small-cnn", "mean |∂CE/∂x| over \(images) images (batches of 256) through small-cnn",
             map, items: Double(images)),
      pgdResult,
    ]
  }

  /// DeepFool (L2, all classes, 50 steps at most) and one fixed-work round of C&W (100 Adam
  /// steps, no early stop) on a batch through small-cnn. DeepFool stops each image once it is
  /// fooled, so its rate depends on the weights; `scripts/attack_suite_reference.py` compares
  /// both with torchattacks on the same trained weights and images.
  func minimalAttacks(batch: Int, using rng: inout SeededGenerator) -> [BenchmarkResult] {
    let model = try! Model(spec: Architecture.smallCNN.spec(input: [1, 28, 28], classes: 10), seed: 0)
    model.setMode(.inference)
    let x = Tensor.uniform([batch, 1, 28, 28], using: &rng)
    let labels = withoutGradients { model.logits(x).argmax(alongAxis: 1) }
    let domain = try! PixelDomain()
    let runs = Swift.max(1, Swift.min(repeats, 3))
    let deepFool = try! DeepFool(norm: .l2, steps: quick ? 3 : 50)
    let cw = try! CarliniWagner(steps: quick ? 3 : 100, initialConstant: 1, searchSteps: 1, abortEarly: false)
    func time(_ attack: any MinimalAttack) -> [Double] {
      Stopwatch.samples(repeats: runs) {
        var r = SeededGenerator(seed: 0)
        _ = attack.perturb(x, criterion: .misclassification(labels: labels), within: domain, model: model, using: &r)
      }
    }
    return [
      result("deepfool-l2.small-cnn", "DeepFool L2 (50 steps at most, all classes) on a batch of \(batch) random images through "
             + "small-cnn at its own predictions; rate in images/s", time(deepFool), items: Double(batch)),
      result("cw-l2.small-cnn", "C&W L2, one round of 100 Adam steps without early stop, batch of \(batch); rate in images/s",
             time(cw), items: Double(batch)),
    ]
  }

  /// Smoothed prediction (vote over m = 32 Gaussian draws, σ = 0.25) of a batch through small-cnn,
  /// and the draws per second of certification (n₀ = 100, n = 1,000 on 16 images).
  func smoothing(batch: Int, using rng: inout SeededGenerator) -> [BenchmarkResult] {
    let model = try! Model(spec: Architecture.smallCNN.spec(input: [1, 28, 28], classes: 10), seed: 0)
    model.setMode(.inference)
    let x = Tensor.uniform([batch, 1, 28, 28], using: &rng)
    let smoothed = RandomizedSmoothing(base: model, sigma: 0.25, mode: .vote, sampleBatch: 1024)
    let runs = Swift.max(1, Swift.min(repeats, 5))
    let predict = Stopwatch.samples(repeats: runs) {
      var streams = (0..<batch).map { SeededGenerator(seed: 0, stream: $0) }
      _ = smoothed.classify(x, draws: 32, streams: &streams)
    }
    let images = x.rows(0..<Swift.min(16, batch)), draws = quick ? 100 : 1000
    let certify = Stopwatch.samples(repeats: Swift.max(1, Swift.min(repeats, 3))) {
      var streams = (0..<images.shape[0]).map { SeededGenerator(seed: 0, stream: $0) }
      _ = smoothed.certify(images, selectionSamples: 100, estimationSamples: draws, alpha: 0.001, streams: &streams)
    }
    return [
      result("smoothing.predict.small-cnn", "vote over 32 draws (σ = 0.25) for a batch of \(batch) through small-cnn; rate in images/s",
             predict, items: Double(batch)),
      result("smoothing.certify.small-cnn", "CERTIFY (n₀ = 100, n = \(draws)) on \(images.shape[0]) images; rate in noisy draws/s",
             certify, items: Double(images.shape[0] * (100 + draws))),
    ]
  }

  // MARK: Overhead and elementwise

  func overhead() -> [BenchmarkResult] {
    let a = Tensor([1, 2, 3, 4], shape: [4]), b = Tensor([4, 3, 2, 1], shape: [4])
    let ops = 1000.0
    let constant = Stopwatch.samples(repeats: repeats) {
      var c = a
      for _ in 0..<1000 { c = c + b }
    }
    let al = a.requiringGradient()
    let recorded = Stopwatch.samples(repeats: repeats) {
      var c = al
      for _ in 0..<1000 { c = c + b }
    }
    let backward = Stopwatch.samples(repeats: repeats) {
      var c = al
      for _ in 0..<1000 { c = c * b }
      _ = gradients(of: c.sum(), wrt: [al])
    }
    return [
      result("overhead.add.constant", "one add of two [4] tensors, no graph", constant, items: ops, perItem: true),
      result("overhead.add.recorded", "one add of two [4] tensors, recorded for autodiff", recorded, items: ops, perItem: true),
      result("overhead.multiply.forward-backward", "one recorded multiply plus its share of the reverse pass",
             backward, items: ops, perItem: true),
    ]
  }

  func elementwise(count: Int, using rng: inout SeededGenerator) -> [BenchmarkResult] {
    let a = Tensor.normal([count], using: &rng), b = Tensor.normal([count], using: &rng)
    let n = Double(count)
    return [
      result("elementwise.add", "a + b over \(count) floats", Stopwatch.samples(repeats: repeats) { _ = a + b },
             items: n, bytes: 12 * n),
      result("elementwise.relu", "relu over \(count) floats", Stopwatch.samples(repeats: repeats) { _ = a.relu() },
             items: n, bytes: 8 * n),
      result("elementwise.exp", "exp over \(count) floats", Stopwatch.samples(repeats: repeats) { _ = a.exp() },
             items: n, bytes: 8 * n),
      result("elementwise.sum", "sum of \(count) floats", Stopwatch.samples(repeats: repeats) { _ = a.sum() },
             items: n, bytes: 4 * n),
    ]
  }
}
