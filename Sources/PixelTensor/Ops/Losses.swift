/// How a per-example loss is reduced over the batch.
public enum LossReduction: Sendable {
  case mean, sum, none
}

/// Cross-entropy of `logits` `[N, K]` against integer `labels`:
/// `CE_n = −(1 − s)·log p_n[y_n] − (s/K)·Σ_k log p_n[k]` with label smoothing `s`.
///
/// - Returns: a scalar for `.mean`/`.sum`, a `[N]` tensor for `.none`.
public func crossEntropy(logits: Tensor, labels: [Int], reduction: LossReduction = .mean,
                         labelSmoothing: Float = 0) -> Tensor {
  precondition(logits.rank == 2 && logits.shape[0] == labels.count,
               "crossEntropy needs logits [N, K] with N labels; got \(logits.shape) and \(labels.count)")
  precondition(labelSmoothing >= 0 && labelSmoothing <= 1, "label smoothing must be in [0, 1]")
  let n = labels.count, k = logits.shape[1]
  let logp = logits.logSoftmax(alongAxis: 1)
  let flat = labels.enumerated().map { i, y in
    precondition(y >= 0 && y < k, "label \(y) outside 0..<\(k)")
    return i * k + y
  }
  var perExample = -logp.gathering(IndexBuffer(flat), shape: [n])
  if labelSmoothing > 0 {
    let uniform = -logp.mean(alongAxes: [1])
    perExample = perExample * (1 - labelSmoothing) + uniform * labelSmoothing
  }
  switch reduction {
  case .none: return perExample
  case .sum: return perExample.sum()
  case .mean: return perExample.mean()
  }
}

/// Cross-entropy of `logits` `[N, K]` against soft targets `[N, K]` (rows of probabilities):
/// `CE_n = −Σ_k q_nk · log softmax(logits)_nk`, the loss of defensive distillation.
public func softCrossEntropy(logits: Tensor, targets: Tensor, reduction: LossReduction = .mean) -> Tensor {
  precondition(logits.rank == 2 && targets.shape == logits.shape, "soft cross-entropy needs logits and targets [N, K]")
  let perExample = -(logits.logSoftmax(alongAxis: 1) * targets).sum(alongAxes: [1])
  switch reduction {
  case .none: return perExample
  case .sum: return perExample.sum()
  case .mean: return perExample.mean()
  }
}

/// The Kullback–Leibler divergence `KL(softmax(p) ‖ softmax(q))` per example, from logits
/// `[N, K]`: `Σ_k P_k (log P_k − log Q_k)` (TRADES' robustness term, Zhang et al., 2019).
public func klDivergence(logits p: Tensor, _ q: Tensor, reduction: LossReduction = .mean) -> Tensor {
  precondition(p.rank == 2 && p.shape == q.shape, "KL divergence needs two logits tensors [N, K]")
  let logP = p.logSoftmax(alongAxis: 1)
  let perExample = (logP.exp() * (logP - q.logSoftmax(alongAxis: 1))).sum(alongAxes: [1])
  switch reduction {
  case .none: return perExample
  case .sum: return perExample.sum()
  case .mean: return perExample.mean()
  }
}
