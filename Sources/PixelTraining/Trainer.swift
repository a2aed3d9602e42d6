import Foundation
import PixelData
import PixelNN
import PixelTensor

/// Progress within an epoch, reported after every batch.
public struct BatchProgress: Sendable {
  /// The epoch (1-based), the batch (1-based) and the batches per epoch.
  public var epoch: Int
  public var batch: Int
  public var batches: Int
  /// Images trained on so far in the epoch.
  public var imagesSeen: Int
  /// Mean training loss over the epoch so far.
  public var runningLoss: Double
  /// Throughput of the epoch so far.
  public var imagesPerSecond: Double
}

/// What one epoch did; one line of the JSON-lines training log (keys are the property names).
public struct EpochReport: Codable, Sendable {
  /// JSON `epoch`: 1-based.
  public var epoch: Int
  /// JSON `trainLoss`, `trainAccuracy`: the objective's mean loss and the accuracy over the
  /// epoch's training batches (in training mode, as they were seen).
  public var trainLoss: Double
  public var trainAccuracy: Double
  /// JSON `testAccuracy`, `testLoss`: on the test split after the epoch (absent without one).
  public var testAccuracy: Double?
  public var testLoss: Double?
  /// JSON `learningRate`: the rate of the epoch's last step.
  public var learningRate: Double
  /// JSON `seconds`, `imagesPerSecond`: wall time and throughput of the epoch's training.
  public var seconds: Double
  public var imagesPerSecond: Double
  /// JSON `terms`: the epoch's mean of each named part of the objective (`ce`, `penalty`, …).
  public var terms: [String: Double]?
}

/// Runs training epochs of a model under an objective and an optimizer.
///
/// Reproducible by construction: epoch `e` shuffles with seed `hash(seed, e)`, reseeds dropout
/// and augmentation the same way, and the learning rate is a function of the global iteration,
/// so a run resumed after epoch `e` continues exactly as an uninterrupted one.
public final class Trainer {
  /// The model being trained (its parameters are updated in place).
  public let model: Model
  /// Updates the parameters; its state is what `--resume` restores.
  public var optimizer: any Optimizer
  /// The loss minimised.
  public let objective: any TrainingObjective
  /// Batch size, schedule, augmentation, clipping and seed.
  public let settings: TrainingSettings
  /// When set, only the top-level layer with this name trains; every other layer stays frozen
  /// and in inference mode (a PRM trained in front of a pretrained classifier).
  public let trainableLayer: String?
  /// Data-parallel training: this process computes its ``DataParallelGroup/slice(of:)`` of every
  /// global batch of `settings.batchSize`, and each update applies the group's summed gradient
  /// of the global batch's mean loss, so every process holds the same weights. Batch norm uses
  /// each process's own batch statistics (as PyTorch's DistributedDataParallel); its running
  /// statistics are rank 0's in the checkpoint. `nil`: a single process.
  public let group: (any DataParallelGroup)?

  /// A trainer of `model` (only `trainableLayer` when given) under `objective` with `optimizer`,
  /// alone or as one process of `group`.
  public init(model: Model, optimizer: any Optimizer, objective: any TrainingObjective, settings: TrainingSettings,
              trainableLayer: String? = nil, group: (any DataParallelGroup)? = nil) {
    self.model = model
    self.optimizer = optimizer
    self.objective = objective
    self.settings = settings
    self.trainableLayer = trainableLayer
    self.group = group
  }

  /// The parameters the optimizer updates.
  public var trainableParameters: [(name: String, parameter: Parameter)] {
    guard let layer = trainableLayer else { return model.namedParameters }
    return model.namedParameters.filter { $0.name.hasPrefix(layer + ".") }
  }

  /// Training mode for what trains, inference mode for what is frozen.
  public func enterTrainingMode() {
    model.setMode(.training)
    guard let layer = trainableLayer else { return }
    for case .module(let name, let child) in model.members where name != layer { child.setMode(.inference) }
  }

  /// The seed for everything random in epoch `epoch` (1-based).
  public static func epochSeed(_ seed: UInt64, epoch: Int) -> UInt64 {
    var g = SeededGenerator(seed: seed ^ (UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15))
    return g.next()
  }

  /// Trains one epoch (1-based `epoch`) over `data`.
  public func trainEpoch(_ epoch: Int, on data: Dataset, progress: (BatchProgress) -> Void = { _ in }) -> EpochReport {
    let seed = Self.epochSeed(settings.seed, epoch: epoch)
    let batches = MiniBatches(data, batchSize: settings.batchSize, shuffleSeed: seed)
    let schedule = settings.makeSchedule(batchesPerEpoch: batches.count)
    let totalIterations = batches.count * settings.epochs
    var augmentRNG = SeededGenerator(seed: seed &+ 1)
    var objectiveRNG = SeededGenerator(seed: seed &+ 3)
    var termSums: [String: Double] = [:]
    // Each process draws its own dropout masks (rank 0 the single process's).
    model.reseedTrainingDraws(seed &+ 2 &+ UInt64(group?.rank ?? 0) &* 0xA24B_AED4_963E_E407)
    // Layers that draw at inference too (parametric noise, a randomized defense under training)
    // restart per epoch as well, so a resumed run draws what an uninterrupted one draws.
    model.reseedRandomizedLayers(seed &+ 4)
    enterTrainingMode()
    let parameters = trainableParameters
    let clock = ContinuousClock()
    let start = clock.now
    var lossSum = 0.0, correct = 0, seen = 0
    var rate = settings.learningRate
    for (i, batch) in batches.enumerated() {
      let iteration = (epoch - 1) * batches.count + i
      rate = schedule.rate(base: settings.learningRate, iteration: iteration, totalIterations: totalIterations)
      // The whole global batch is augmented on every process, so a process's slice is augmented
      // as in a single process.
      let augmented = settings.augmentation.apply(batch.images, using: &augmentRNG)
      let rows = group?.slice(of: batch.labels.count) ?? 0..<batch.labels.count
      let labels = Array(batch.labels[rows])
      let n = labels.count
      guard let value = step(inputs: group == nil ? augmented : augmented.rows(rows), labels: labels, learningRate: rate, parameters: parameters,
                             globalBatch: batch.labels.count, using: &objectiveRNG) else { continue }
      lossSum += Double(value.loss.item) * Double(n)
      for (name, v) in value.terms { termSums[name, default: 0] += Double(v) * Double(n) }
      correct += zip(value.logits.detached().argmax(alongAxis: 1), labels).filter { $0 == $1 }.count
      seen += n
      let elapsed = (clock.now - start).seconds
      progress(BatchProgress(epoch: epoch, batch: i + 1, batches: batches.count, imagesSeen: seen,
                             runningLoss: lossSum / Double(seen), imagesPerSecond: Double(seen) / Swift.max(elapsed, 1e-9)))
    }
    let seconds = (clock.now - start).seconds
    model.setMode(.inference)
    if let group {
      // The epoch's statistics over every process's examples.
      let names = termSums.keys.sorted()
      var totals = [lossSum, Double(correct), Double(seen)] + names.map { termSums[$0]! }
      group.allReduceSum(&totals)
      (lossSum, correct, seen) = (totals[0], Int(totals[1]), Int(totals[2]))
      for (k, name) in names.enumerated() { termSums[name] = totals[3 + k] }
    }
    return EpochReport(epoch: epoch, trainLoss: lossSum / Double(Swift.max(seen, 1)),
                       trainAccuracy: Double(correct) / Double(Swift.max(seen, 1)), testAccuracy: nil, testLoss: nil,
                       learningRate: Double(rate), seconds: seconds, imagesPerSecond: Double(seen) / Swift.max(seconds, 1e-9),
                       terms: termSums.mapValues { $0 / Double(Swift.max(seen, 1)) })
  }
}

extension Trainer {
  /// One optimizer step on a batch: the objective's loss, the gradients of the trainable
  /// parameters (clipped to `settings.gradientClipNorm`), and the update at `learningRate`.
  /// The model must be in the mode training wants (``trainEpoch(_:on:progress:)`` sets it).
  /// - Parameter parameters: the trainable parameters (``trainableParameters``, passed in so a
  ///   loop walks the model tree once).
  /// - Returns: the objective's value on the batch.
  @discardableResult
  public func step(inputs: Tensor, labels: [Int], learningRate: Float,
                   parameters: [(name: String, parameter: Parameter)], using rng: inout SeededGenerator) -> ObjectiveValue {
    step(inputs: inputs, labels: labels, learningRate: learningRate, parameters: parameters, globalBatch: labels.count, using: &rng)!
  }

  /// One step of data-parallel training: `inputs` and `labels` are this process's slice of a
  /// global batch of `globalBatch` examples; its gradient of the slice's mean loss is weighted
  /// by `n / globalBatch` and summed over the group: the gradient of the global batch's mean loss.
  /// - Returns: the objective's value on the slice, `nil` for an empty slice (which still takes
  ///   part in the sum and the update).
  func step(inputs: Tensor, labels: [Int], learningRate: Float, parameters: [(name: String, parameter: Parameter)],
            globalBatch: Int, using rng: inout SeededGenerator) -> ObjectiveValue? {
    optimizer.learningRate = learningRate
    let value = labels.isEmpty ? nil : objective.loss(model: model, inputs: inputs, labels: labels, using: &rng)
    var grads = value.map { gradients(of: $0.loss, wrt: parameters.map { $0.parameter.value }) }
      ?? parameters.map { Tensor.zeros($0.parameter.value.shape) }
    if let group {
      // One buffer for every gradient, so a step makes one all-reduce call and one copy each way.
      let weight = Float(labels.count) / Float(globalBatch)
      var flat = [Float](repeating: 0, count: grads.reduce(0) { $0 + $1.elementCount })
      flat.withUnsafeMutableBufferPointer { out in
        var offset = 0
        for g in grads {
          g.withUnsafeBufferPointer { b in for i in b.indices { out[offset + i] = b[i] * weight } }
          offset += g.elementCount
        }
      }
      group.allReduceSum(&flat)
      flat.withUnsafeBufferPointer { summed in
        var offset = 0
        for k in grads.indices {
          var g = Tensor.zeros(grads[k].shape)
          g.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = summed[offset + i] } }
          offset += g.elementCount
          grads[k] = g
        }
      }
    }
    var byName = Dictionary(uniqueKeysWithValues: zip(parameters.map(\.name), grads))
    if let clip = settings.gradientClipNorm { clipGradientNorm(&byName, maxNorm: clip) }
    optimizer.update(parameters, gradients: byName)
    return value
  }
}
