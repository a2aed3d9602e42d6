import Foundation
import PixelNN
import PixelTensor

/// A classifier averaged over Gaussian input noise: Nemcovsky et al.'s smoothed inference
/// ("Smoothed inference for adversarially-trained models", https://arxiv.org/abs/1911.07198) and
/// Cohen, Rosenfeld & Kolter's certified prediction (2019, https://arxiv.org/abs/1902.02918).
///
/// Each draw classifies `x + σ·ε ⊙ M` with `ε ~ N(0, I)` (no clipping, as both papers) and `M` the
/// optional pixel mask (all ones without one). The draws are aggregated per class as
/// - **vote**: the number of draws whose top-1 class it is,
/// - **soft**: the mean logit,
/// - **weighted**: `Σ_draws 2^−rank` (rank 0 for the top class),
/// - **probability**: the mean softmax probability (the PyTorch anchor's soft column).
///
/// With a mask the noise lives on the masked pixels only, and the certificate holds for
/// perturbations supported on them: the Neyman–Pearson argument of Cohen et al.'s Theorem 1 is
/// unchanged in the subspace spanned by the masked coordinates, because the other coordinates of
/// `x + δ` and `x` agree and carry no noise.
public struct RandomizedSmoothing {
  /// How the draws are aggregated.
  public enum Mode: String, Sendable, CaseIterable, Codable {
    case vote, soft, weighted, probability
  }

  /// The base classifier (in inference mode).
  public var base: any Classifier
  /// The noise standard deviation σ in pixel units.
  public var sigma: Float
  /// The aggregation of ``classify(_:draws:streams:)``; certification always counts top-1 votes.
  public var mode: Mode
  /// 1 where noise is added, `[1, C, H, W]`; `nil` adds it everywhere.
  public var mask: Tensor?
  /// The most noisy images per forward pass (the memory cap).
  public var sampleBatch: Int

  /// A smoothed `base` with noise σ.
  /// - Precondition: σ ≥ 0 and finite, `sampleBatch ≥ 1`.
  public init(base: any Classifier, sigma: Float, mode: Mode = .vote, mask: Tensor? = nil, sampleBatch: Int = 1024) {
    precondition(sigma >= 0 && sigma.isFinite, "σ must be finite and ≥ 0")
    precondition(sampleBatch >= 1, "the sample batch must be at least 1")
    self.base = base; self.sigma = sigma; self.mode = mode; self.mask = mask; self.sampleBatch = sampleBatch
  }

  /// `x_r + σ·ε_r ⊙ M` for each `r` of `rows` (indices into the batch `x`), the noise `ε_r`
  /// drawn from `streams[r]`: every noisy copy of example `r` consumes its own stream, so the
  /// draws of an example do not depend on which examples share its batch or forward pass.
  public func noisy(_ x: Tensor, rows: [Int], streams: inout [SeededGenerator]) -> Tensor {
    precondition(streams.count == x.shape[0], "one stream per example")
    let per = x.elementCount / Swift.max(x.shape[0], 1)
    var e = Tensor.zeros(Shape([rows.count] + Array(x.shape.dims.dropFirst())))
    e.withUnsafeMutableBufferPointer { noise in
      for (k, r) in rows.enumerated() {
        var i = 0
        while i < per {
          let (z0, z1) = streams[r].nextStandardNormalPair()
          noise[k * per + i] = sigma * z0
          if i + 1 < per { noise[k * per + i + 1] = sigma * z1 }
          i += 2
        }
      }
    }
    return withoutGradients { x.rows(at: rows) + (mask.map { e * $0 } ?? e) }
  }

  /// One stream per example of a batch of `count`, seeded from `rng` (for callers without
  /// global example indices).
  public static func streams(_ count: Int, from rng: inout SeededGenerator) -> [SeededGenerator] {
    (0..<count).map { _ in SeededGenerator(seed: rng.next()) }
  }

  /// Per example and class, the aggregate of `draws` noisy classifications in `mode`
  /// (counts for vote, mean logits for soft, weighted ranks for weighted); example `i`'s noise
  /// comes from `streams[i]`.
  public func scores(_ x: Tensor, draws: Int, mode: Mode? = nil, streams: inout [SeededGenerator]) -> [[Double]] {
    precondition(draws >= 1, "smoothing needs at least one draw")
    let mode = mode ?? self.mode
    let n = x.shape[0]
    var scores: [[Double]] = []
    var classes = 0
    // Draws of one example run together, examples in chunks of whole images.
    let perChunk = Swift.max(1, sampleBatch / draws)
    for start in stride(from: 0, to: n, by: perChunk) {
      let images = Array(start..<Swift.min(start + perChunk, n))
      var remaining = draws
      var chunkTotals: [[Double]] = Array(repeating: [], count: images.count)
      while remaining > 0 {
        let copies = Swift.min(remaining, Swift.max(1, sampleBatch / images.count))
        remaining -= copies
        let rows = images.flatMap { [Int](repeating: $0, count: copies) }
        let z = withoutGradients { base.logits(noisy(x, rows: rows, streams: &streams)) }
        classes = z.shape[1]
        let values = z.scalars
        for j in images.indices {
          if chunkTotals[j].isEmpty { chunkTotals[j] = [Double](repeating: 0, count: classes) }
          for c in 0..<copies {
            let row = values[((j * copies + c) * classes)..<((j * copies + c + 1) * classes)]
            Self.accumulate(row, mode: mode, into: &chunkTotals[j])
          }
        }
      }
      scores += chunkTotals.map { t in mode == .soft || mode == .probability ? t.map { $0 / Double(draws) } : t }
    }
    return scores
  }

  static func accumulate(_ logits: ArraySlice<Float>, mode: Mode, into totals: inout [Double]) {
    switch mode {
    case .vote:
      var best = logits.startIndex
      for i in logits.indices where logits[i] > logits[best] { best = i }
      totals[best - logits.startIndex] += 1
    case .soft:
      for (k, v) in logits.enumerated() { totals[k] += Double(v) }
    case .weighted:
      let order = logits.indices.sorted { logits[$0] > logits[$1] }
      for (rank, i) in order.enumerated() { totals[i - logits.startIndex] += Foundation.pow(2, -Double(rank)) }
    case .probability:
      let top = Double(logits.max() ?? 0)
      let exps = logits.map { Foundation.exp(Double($0) - top) }
      let sum = exps.reduce(0, +)
      for (k, e) in exps.enumerated() { totals[k] += e / sum }
    }
  }

  /// The class with the largest score, the smallest index on ties.
  static func topClass(_ scores: [Double]) -> Int {
    scores.indices.max { scores[$0] < scores[$1] || (scores[$0] == scores[$1] && $0 > $1) }!
  }

  /// Smoothed inference: the class with the largest aggregate score of `draws` draws.
  public func classify(_ x: Tensor, draws: Int, streams: inout [SeededGenerator]) -> [Int] {
    scores(x, draws: draws, streams: &streams).map(Self.topClass)
  }

  /// Cohen et al.'s PREDICT: the top class of `samples` votes, or `nil` (abstain) when the
  /// two-sided binomial test of the top two counts cannot reject a tie at level α. At α = 1 it
  /// never abstains (ties go to the smaller class index): the plain majority vote.
  public func predict(_ x: Tensor, samples: Int, alpha: Double, streams: inout [SeededGenerator]) -> [Int?] {
    scores(x, draws: samples, mode: .vote, streams: &streams).map { counts in
      let order = counts.indices.sorted { counts[$0] > counts[$1] || (counts[$0] == counts[$1] && $0 < $1) }
      let a = Int(counts[order[0]]), b = order.count > 1 ? Int(counts[order[1]]) : 0
      guard alpha < 1 else { return order[0] }
      return BinomialBounds.twoSidedHalfTest(successes: a, trials: a + b) > alpha ? nil : order[0]
    }
  }

  /// Cohen et al.'s CERTIFY: the top class of `selectionSamples` votes, its probability bounded
  /// below by Clopper–Pearson on `estimationSamples` fresh votes at level α, and the L2 radius
  /// `σ·Φ⁻¹(p_A)` within which the smoothed classifier's prediction cannot change (abstain when
  /// `p_A ≤ ½`). Each example's selection draws come first in its stream, then its estimation draws.
  public func certify(_ x: Tensor, selectionSamples: Int, estimationSamples: Int, alpha: Double,
                      streams: inout [SeededGenerator]) -> [Certificate] {
    let selection = scores(x, draws: selectionSamples, mode: .vote, streams: &streams)
    let estimation = scores(x, draws: estimationSamples, mode: .vote, streams: &streams)
    return zip(selection, estimation).map { s, e in
      let top = Self.topClass(s)
      let pLower = BinomialBounds.clopperPearsonLower(successes: Int(e[top]), trials: estimationSamples, alpha: alpha)
      guard pLower > 0.5 else { return Certificate(label: nil, pLower: pLower, radius: nil, topCount: Int(e[top])) }
      return Certificate(label: top, pLower: pLower, radius: Double(sigma) * StandardNormal.quantile(pLower), topCount: Int(e[top]))
    }
  }
}

/// One example's certificate. JSON keys are the property names.
public struct Certificate: Codable, Sendable, Equatable {
  /// The certified class, or `nil` when certification abstains.
  public var label: Int?
  /// The lower confidence bound on the top class's probability under noise.
  public var pLower: Double
  /// The certified L2 radius (pixel units), `nil` when abstaining.
  public var radius: Double?
  /// Estimation votes for the selected class.
  public var topCount: Int
}
