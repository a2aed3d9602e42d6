import Foundation
import PixelNN
import PixelTensor

/// The Square attack (Andriushchenko et al., 2020, "Square Attack: a query-efficient black-box
/// adversarial attack via random search", https://arxiv.org/abs/1912.00049): random search over
/// square-shaped updates that uses only the model's logits.
///
/// Each query changes one random `s × s` window of the current best point and keeps the change
/// when the margin loss `z_y − max_{i≠y} z_i` (targeted: `max_{i≠t} z_i − z_t`) decreases.
/// `s = round(√(p·H·W))` with `p` halving on the paper's schedule from `p_init`, rescaled to the
/// query budget. L∞ sets the window to `x ± ε` per channel (starting from vertical stripes); L2
/// moves perturbation mass between two windows with the paper's centred pseudo-Gaussian pattern
/// and rescales to ‖δ‖₂ = ε. Because it never looks at gradients, a Square attack that beats a
/// gradient attack at the same ε is evidence of gradient masking.
///
/// With a mask, windows are drawn among positions that cover at least one masked pixel, and only
/// masked pixels change.
public struct SquareAttack: BoundedAttack {
  /// Model queries per example, the initial point included.
  public var queries: Int
  /// The initial share of the image a window covers.
  public var initialFraction: Double

  /// A Square attack with a budget of `queries` per example.
  /// - Throws: ``AttackError`` for fewer than two queries or `initialFraction` outside (0, 1].
  public init(queries: Int = 1000, initialFraction: Double = 0.8) throws {
    guard queries >= 2 else { throw AttackError.invalidStep("the Square attack needs at least 2 queries") }
    guard initialFraction > 0, initialFraction <= 1 else {
      throw AttackError.invalidStep("the Square attack's initial window fraction must lie in (0, 1]")
    }
    self.queries = queries
    self.initialFraction = initialFraction
  }

  public var name: String { "square-\(queries)" }

  /// The window share at iteration `i`: `p_init` halved at iterations 10, 50, 200, 500, 1000,
  /// 2000, 4000, 6000 and 8000 of a 10,000-query run, rescaled to `queries`.
  public func fraction(at i: Int) -> Double {
    let t = Int(Double(i) / Double(queries) * 10_000)
    let halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000].filter { t > $0 }.count
    return initialFraction / Double(1 << halvings)
  }

  public func perturb(_ x: Tensor, criterion: Criterion, within threat: ThreatModel, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], d = c * h * w
    let clean = x.scalars, eps = threat.epsilon
    let mask = threat.mask.map { m in withoutGradients { m.broadcast(to: [1, c, h, w]).scalars } } ?? [Float](repeating: 1, count: d)
    var best = clean
    var state = Search(clean: clean, mask: mask, shape: (c, h, w), epsilon: eps, bounds: threat.bounds)
    // The first query: vertical stripes (L∞) or a grid of pseudo-Gaussian squares (L2).
    for i in 0..<n {
      let delta = threat.norm == .lInfinity ? state.stripes(using: &rng) : state.gaussianGrid(using: &rng)
      state.write(delta, example: i, norm: threat.norm, into: &best)
    }
    var (margin, fooled) = score(best, indices: Array(0..<n), shape: x.shape, criterion: criterion, model: model)
    for iteration in 0..<(queries - 1) {
      let active = (0..<n).filter { !fooled[$0] }
      if active.isEmpty { break }
      let side = Swift.min(Swift.max(Int((fraction(at: iteration) * Double(h * w)).squareRoot().rounded()),
                                     threat.norm == .lInfinity ? 1 : 3), Swift.min(h, w))
      var candidates = [Float](); candidates.reserveCapacity(active.count * d)
      for i in active {
        let current = Array(best[(i * d)..<((i + 1) * d)])
        candidates += threat.norm == .lInfinity
          ? state.squareStep(current, example: i, side: side, using: &rng)
          : state.squareStepL2(current, example: i, side: side | 1, using: &rng)
      }
      let (m, f) = score(candidates, indices: active, shape: x.shape, criterion: criterion, model: model)
      for (j, i) in active.enumerated() where m[j] < margin[i] || f[j] {
        margin[i] = m[j]
        fooled[i] = f[j]
        best.replaceSubrange((i * d)..<((i + 1) * d), with: candidates[(j * d)..<((j + 1) * d)])
      }
    }
    return Tensor(best, shape: x.shape)
  }

  /// Margins and success of the rows of `images` (examples `indices` of the batch).
  func score(_ images: [Float], indices: [Int], shape: Shape, criterion: Criterion, model: any Classifier) -> ([Float], [Bool]) {
    let z = queryLogits(Tensor(images, shape: Shape([indices.count] + Array(shape.dims.dropFirst()))), model: model)
    let k = z.count / Swift.max(indices.count, 1)
    var margins: [Float] = [], fooled: [Bool] = []
    for (j, i) in indices.enumerated() {
      let row = z[(j * k)..<((j + 1) * k)]
      let y = criterion.labels[i]
      let other: Float = largestOther(row, excluding: y).value
      let zy: Float = row[row.startIndex + y]
      margins.append(criterion.isTargeted ? other - zy : zy - other)
      let predicted = argmax(row)
      fooled.append(criterion.isTargeted ? predicted == y : predicted != y)
    }
    return (margins, fooled)
  }
}

/// The per-example geometry of a Square search: the clean image, the mask, the windows that
/// touch the mask, and the projections.
private struct Search {
  let clean: [Float]
  let mask: [Float]
  let c: Int, h: Int, w: Int
  let epsilon: Float
  let bounds: ClosedRange<Float>
  /// For each window side, the top-left corners whose window covers a masked pixel.
  var corners: [Int: [(Int, Int)]] = [:]

  init(clean: [Float], mask: [Float], shape: (Int, Int, Int), epsilon: Float, bounds: ClosedRange<Float>) {
    self.clean = clean; self.mask = mask; (c, h, w) = shape; self.epsilon = epsilon; self.bounds = bounds
  }

  var d: Int { c * h * w }

  func masked(_ ch: Int, _ r: Int, _ col: Int) -> Bool { mask[(ch * h + r) * w + col] != 0 }

  func randomSign(using rng: inout SeededGenerator) -> Float { rng.next() & 1 == 0 ? -1 : 1 }

  /// `ε·σ` per channel and column, σ = ±1: the L∞ start.
  func stripes(using rng: inout SeededGenerator) -> [Float] {
    var delta = [Float](repeating: 0, count: d)
    for ch in 0..<c {
      for col in 0..<w {
        let s = randomSign(using: &rng) * epsilon
        for r in 0..<h { delta[(ch * h + r) * w + col] = s }
      }
    }
    return delta
  }

  /// A grid of `h/5`-sided pseudo-Gaussian squares with random signs per channel: the L2 start.
  func gaussianGrid(using rng: inout SeededGenerator) -> [Float] {
    var delta = [Float](repeating: 0, count: d)
    let s = Swift.max(h / 5, 1), offset = (h - s * 5) / 2
    var r0 = Swift.max(offset, 0)
    for _ in 0..<(h / s) {
      var c0 = Swift.max(offset, 0)
      for _ in 0..<(w / s) {
        let pattern = Self.eta(s, transposed: rng.next() & 1 == 0)
        for ch in 0..<c {
          let sign = randomSign(using: &rng)
          for a in 0..<s where r0 + a < h {
            for b in 0..<s where c0 + b < w { delta[(ch * h + r0 + a) * w + c0 + b] += sign * pattern[a * s + b] }
          }
        }
        c0 += s
      }
      r0 += s
    }
    return delta
  }

  /// Writes `clean + delta` into row `i` of `images`: masked, rescaled to ‖δ‖₂ = ε for L2, clipped.
  func write(_ delta: [Float], example i: Int, norm: Norm, into images: inout [Float]) {
    var dm = zip(delta, mask).map { $0 * $1 }
    if norm == .l2 {
      let length = dm.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
      dm = dm.map { $0 * epsilon / Swift.max(length, 1e-12) }
    }
    for j in 0..<d { images[i * d + j] = (clean[i * d + j] + dm[j]).clamped(to: bounds) }
  }

  /// A random top-left corner for a `side`-sided window covering a masked pixel.
  mutating func corner(side: Int, using rng: inout SeededGenerator) -> (Int, Int) {
    if corners[side] == nil {
      var list: [(Int, Int)] = []
      for r in 0...(h - side) {
        for col in 0...(w - side) {
          let covers = (0..<c).contains { ch in (r..<(r + side)).contains { a in (col..<(col + side)).contains { masked(ch, a, $0) } } }
          if covers { list.append((r, col)) }
        }
      }
      corners[side] = list
    }
    let list = corners[side]!
    return list[Int(rng.next() % UInt64(list.count))]
  }

  /// L∞: the window set to `x ± ε` per channel on masked pixels.
  mutating func squareStep(_ current: [Float], example i: Int, side: Int, using rng: inout SeededGenerator) -> [Float] {
    var out = current
    let (r0, c0) = corner(side: side, using: &rng)
    for ch in 0..<c {
      let s = randomSign(using: &rng) * epsilon
      for r in r0..<(r0 + side) {
        for col in c0..<(c0 + side) where masked(ch, r, col) {
          let j = (ch * h + r) * w + col
          out[j] = (clean[i * d + j] + s).clamped(to: bounds)
        }
      }
    }
    return out
  }

  /// L2: a new pseudo-Gaussian window that takes over the mass of a second window, then the
  /// whole perturbation rescaled to ‖δ‖₂ = ε (Andriushchenko et al.'s L2 update).
  mutating func squareStepL2(_ current: [Float], example i: Int, side requested: Int, using rng: inout SeededGenerator) -> [Float] {
    let side = Swift.min(requested, Swift.min(h, w))
    var delta = (0..<d).map { current[$0] - clean[i * d + $0] }
    let (r1, c1) = corner(side: side, using: &rng), (r2, c2) = corner(side: side, using: &rng)
    func inWindow(_ r: Int, _ col: Int, _ r0: Int, _ c0: Int) -> Bool { r >= r0 && r < r0 + side && col >= c0 && col < c0 + side }
    var imageNormSq: Float = 0, windowsNormSq: Float = 0
    for ch in 0..<c {
      for r in 0..<h {
        for col in 0..<w {
          let v = delta[(ch * h + r) * w + col]
          imageNormSq += v * v
          if inWindow(r, col, r1, c1) || inWindow(r, col, r2, c2) { windowsNormSq += v * v }
        }
      }
    }
    let pattern = Self.eta(side, transposed: rng.next() & 1 == 0)
    let target = (Swift.max(epsilon * epsilon - imageNormSq, 0) / Float(c) + windowsNormSq).squareRoot()
    var window = [Float](repeating: 0, count: c * side * side)
    for ch in 0..<c {
      let sign = randomSign(using: &rng)
      var oldNormSq: Float = 0
      for a in 0..<side { for b in 0..<side { let v = delta[(ch * h + r1 + a) * w + c1 + b]; oldNormSq += v * v } }
      // The new pattern plus the window's old direction (the reference's first window norm is over all channels).
      var newNormSq: Float = 0
      for a in 0..<side {
        for b in 0..<side {
          let old = delta[(ch * h + r1 + a) * w + c1 + b] / (1e-12 + oldNormSq.squareRoot())
          let v = (sign * pattern[a * side + b] + old) * mask[(ch * h + r1 + a) * w + c1 + b]
          window[(ch * side + a) * side + b] = v
          newNormSq += v * v
        }
      }
      let scale = target / (1e-12 + newNormSq.squareRoot())
      for j in (ch * side * side)..<((ch + 1) * side * side) { window[j] *= scale }
    }
    for ch in 0..<c {
      for a in 0..<side { for b in 0..<side { delta[(ch * h + r2 + a) * w + c2 + b] = 0 } }
    }
    for ch in 0..<c {
      for a in 0..<side { for b in 0..<side { delta[(ch * h + r1 + a) * w + c1 + b] = window[(ch * side + a) * side + b] } }
    }
    let norm = delta.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
    let scale = norm > 0 ? epsilon / norm : 0
    return (0..<d).map { j in (clean[i * d + j] + delta[j] * mask[j] * scale).clamped(to: bounds) }
  }

  /// The centred pseudo-Gaussian `s × s` pattern: nested rectangles weighted 1/(k+1)², the top
  /// half positive and the bottom half negative, unit L2 norm; transposed on a coin flip.
  static func eta(_ s: Int, transposed: Bool) -> [Float] {
    var out = [Float](repeating: 0, count: s * s)
    let top = rectangles(s / 2, s), bottom = rectangles(s - s / 2, s)
    for a in 0..<(s / 2) { for b in 0..<s { out[a * s + b] = top[a * s + b] } }
    for a in 0..<(s - s / 2) { for b in 0..<s { out[(s / 2 + a) * s + b] = -bottom[a * s + b] } }
    let norm = out.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
    if norm > 0 { out = out.map { $0 / norm } }
    guard transposed else { return out }
    return (0..<(s * s)).map { j in out[(j % s) * s + j / s] }
  }

  /// `rows × cols` nested centred rectangles, the k-th weighted 1/(k+1)², unit L2 norm.
  static func rectangles(_ rows: Int, _ cols: Int) -> [Float] {
    var out = [Float](repeating: 0, count: rows * cols)
    guard rows > 0, cols > 0 else { return out }
    var r0 = rows / 2, c0 = cols / 2
    for k in 0..<Swift.max(rows / 2 + 1, cols / 2 + 1) {
      let weight = 1 / Float((k + 1) * (k + 1))
      for a in Swift.max(r0, 0)..<Swift.min(r0 + 2 * k + 1, rows) {
        for b in Swift.max(c0, 0)..<Swift.min(c0 + 2 * k + 1, cols) { out[a * cols + b] += weight }
      }
      r0 -= 1; c0 -= 1
    }
    let norm = out.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
    return norm > 0 ? out.map { $0 / norm } : out
  }
}
