import Foundation
import PixelNN
import PixelTensor

/// The logits of a batch and vector–Jacobian products through them from one recorded forward
/// pass: attacks that need several class gradients (DeepFool, JSMA) or whose loss is a function
/// of the logits alone (DLR, C&W's margin) reuse the one graph for every product.
struct LogitProbe {
  /// Row-major `[N, K]` logits.
  let logits: [Float]
  let count: Int
  let classes: Int
  private let input: Tensor
  private let output: Tensor

  /// Records `model.logits(x)` with `x` as a fresh leaf.
  init(_ x: Tensor, model: any Classifier) {
    let leaf = x.detached().requiringGradient()
    let z = withGradients { model.logits(leaf) }
    input = leaf
    output = z
    logits = z.detached().scalars
    count = output.shape[0]
    classes = output.shape[1]
  }

  /// `z[n, k]`.
  func logit(_ n: Int, _ k: Int) -> Float { logits[n * classes + k] }

  /// One example's logits.
  func row(_ n: Int) -> ArraySlice<Float> { logits[(n * classes)..<((n + 1) * classes)] }

  /// Predicted classes.
  var predictions: [Int] { (0..<count).map { n in argmax(row(n)) } }

  /// `Σ_{n,k} c[n,k] ∂z[n,k]/∂x`, shaped like the input: per example, the input gradient of
  /// `Σ_k c[n,k] z[n,k]` (examples do not interact in inference mode).
  func inputGradient(cotangent: [Float]) -> Tensor {
    vectorJacobianProducts(of: output, wrt: [input], cotangent: Tensor(cotangent, shape: output.shape))[0]
  }

  /// Per example, the input gradient of the logit `z[n, k[n]]`.
  func classGradient(_ k: [Int]) -> Tensor {
    var c = [Float](repeating: 0, count: logits.count)
    for n in 0..<count { c[n * classes + k[n]] = 1 }
    return inputGradient(cotangent: c)
  }
}

/// Logits of `x` without recording a graph, row-major `[N, K]` (what black-box attacks query).
func queryLogits(_ x: Tensor, model: any Classifier) -> [Float] {
  withoutGradients { model.logits(x).scalars }
}

/// The index of the largest element (the first one on ties, as `argmax` of tensors).
func argmax(_ v: ArraySlice<Float>) -> Int {
  var best = v.startIndex
  for i in v.indices where v[i] > v[best] { best = i }
  return best - v.startIndex
}

/// The softmax of one example's logits, in `Double` (shifted by the largest logit).
func softmax(_ z: ArraySlice<Float>) -> [Double] {
  let top = Double(z.max() ?? 0)
  let exps = z.map { Foundation.exp(Double($0) - top) }
  let total = exps.reduce(0, +)
  return exps.map { $0 / total }
}

/// The largest logit other than class `y`, and its class.
func largestOther(_ z: ArraySlice<Float>, excluding y: Int) -> (value: Float, index: Int) {
  var best = -Float.infinity, index = y == 0 ? 1 : 0
  for (k, v) in z.enumerated() where k != y && v > best { best = v; index = k }
  return (best, index)
}

extension Tensor {
  /// `self` with example `n` multiplied by `factors[n]`.
  func scaledPerExample(_ factors: [Float]) -> Tensor {
    withoutGradients { self * Tensor(factors, shape: Shape([factors.count] + [Int](repeating: 1, count: rank - 1))) }
  }

  /// Rows of `replacement` where `take` is true, rows of `self` elsewhere.
  func replacingRows(_ take: [Bool], with replacement: Tensor) -> Tensor {
    precondition(shape == replacement.shape && take.count == shape[0], "row replacement needs equal shapes")
    guard take.contains(true) else { return self }
    let per = elementCount / Swift.max(shape[0], 1)
    var out = scalars
    replacement.withUnsafeBufferPointer { r in
      for n in take.indices where take[n] {
        for j in (n * per)..<((n + 1) * per) { out[j] = r[j] }
      }
    }
    return Tensor(out, shape: shape)
  }
}

extension Float {
  /// The value moved into `range`.
  func clamped(to range: ClosedRange<Float>) -> Float { Swift.min(Swift.max(self, range.lowerBound), range.upperBound) }
}
