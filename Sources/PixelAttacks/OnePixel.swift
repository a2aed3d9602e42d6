import Foundation
import PixelNN
import PixelTensor

/// The one-pixel attack (Su, Vargas & Sakurai, 2019, "One pixel attack for fooling deep neural
/// networks", https://arxiv.org/abs/1710.08864): differential evolution over `pixels` (location,
/// value per channel) tuples, black-box (softmax probabilities only).
///
/// A candidate changes at most `pixels` locations; at each, every channel takes a value in
/// `[x − ε, x + ε] ∩ bounds` (ε = 1: any value, as in the paper). DE/rand/1 with scale `F`
/// (`m = a + F·(b − c)`; coordinates leaving their range are redrawn uniformly, as SciPy does)
/// and binomial crossover with rate `crossover` (1 in the paper: the trial is the mutant). A
/// trial replaces its parent when its fitness — the true class's probability, or 1 − the
/// target's — is not worse. An example stops as soon as a member fools the model.
///
/// With a mask, locations are drawn among the masked ones and only masked channels change.
public struct OnePixel: BoundedAttack {
  /// Locations changed (1, 3 or 5 in the paper).
  public var pixels: Int
  /// Candidates per example.
  public var population: Int
  /// Generations.
  public var iterations: Int
  /// The differential weight F.
  public var scale: Float
  /// The crossover rate.
  public var crossover: Float

  /// A one-pixel attack on `pixels` locations with `population` candidates for `iterations` generations.
  /// - Throws: ``AttackError`` for non-positive counts, a population under 4 (DE draws three
  ///   others), or F/crossover outside (0, 2] / [0, 1].
  public init(pixels: Int = 1, population: Int = 400, iterations: Int = 100, scale: Float = 0.5, crossover: Float = 1) throws {
    guard pixels >= 1 else { throw AttackError.invalidStep("the one-pixel attack changes at least one pixel") }
    guard population >= 4 else { throw AttackError.invalidStep("differential evolution needs a population of at least 4") }
    guard iterations >= 0 else { throw AttackError.invalidStep("the one-pixel attack's iterations must be ≥ 0") }
    guard scale > 0, scale <= 2, (0...1).contains(crossover) else {
      throw AttackError.invalidStep("DE's scale F must lie in (0, 2] and its crossover rate in [0, 1]")
    }
    self.pixels = pixels; self.population = population; self.iterations = iterations; self.scale = scale
    self.crossover = crossover
  }

  public var name: String { "onepixel-\(pixels)" }

  public func perturb(_ x: Tensor, criterion: Criterion, within threat: ThreatModel, model: any Classifier,
                      using rng: inout SeededGenerator) -> Tensor {
    let n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3], d = c * h * w
    let clean = x.scalars
    let mask = threat.mask.map { m in withoutGradients { m.broadcast(to: [1, c, h, w]).scalars } } ?? [Float](repeating: 1, count: d)
    let locations = (0..<(h * w)).filter { p in (0..<c).contains { mask[$0 * h * w + p] != 0 } }
    let genes = pixels * (1 + c)
    // Genes in [0, 1): a location index scaled by the number of locations, then one value per channel.
    var members = (0..<(n * population)).map { _ in (0..<genes).map { _ in rng.nextUnitFloat() } }
    func image(_ i: Int, _ g: [Float]) -> [Float] {
      var out = Array(clean[(i * d)..<((i + 1) * d)])
      for p in 0..<pixels {
        let location = locations[Swift.min(Int(g[p * (1 + c)] * Float(locations.count)), locations.count - 1)]
        for ch in 0..<c where mask[ch * h * w + location] != 0 {
          let j = ch * h * w + location, v = clean[i * d + j]
          let lo = Swift.max(threat.bounds.lowerBound, v - threat.epsilon), hi = Swift.min(threat.bounds.upperBound, v + threat.epsilon)
          out[j] = lo + g[p * (1 + c) + 1 + ch] * (hi - lo)
        }
      }
      return out
    }
    var (fitness, fooled) = evaluate(Array(0..<(n * population)), genes: members, image: image, shape: x.shape,
                                     criterion: criterion, model: model)
    var done = (0..<n).map { i in fooled[(i * population)..<((i + 1) * population)].contains(true) }
    for _ in 0..<iterations where done.contains(false) {
      var trials: [[Float]] = [], owners: [Int] = []
      for i in 0..<n where !done[i] {
        for j in 0..<population {
          let (a, b, e) = distinctOthers(j, using: &rng)
          let pa = members[i * population + a], pb = members[i * population + b], pe = members[i * population + e]
          let parent = members[i * population + j]
          let forced = Int(rng.next() % UInt64(genes))
          trials.append((0..<genes).map { q in
            guard q == forced || rng.nextUnitFloat() < crossover else { return parent[q] }
            let m = pa[q] + scale * (pb[q] - pe[q])
            return m >= 0 && m < 1 ? m : rng.nextUnitFloat()
          })
          owners.append(i * population + j)
        }
      }
      let (f, s) = evaluate(owners, genes: trials, image: image, shape: x.shape, criterion: criterion, model: model)
      for (k, o) in owners.enumerated() where f[k] <= fitness[o] || s[k] {
        members[o] = trials[k]; fitness[o] = f[k]; fooled[o] = s[k]
      }
      for i in 0..<n where !done[i] { done[i] = fooled[(i * population)..<((i + 1) * population)].contains(true) }
    }
    var out = [Float](); out.reserveCapacity(n * d)
    for i in 0..<n {
      let range = (i * population)..<((i + 1) * population)
      // A fooling member if there is one, else the fittest.
      let pick = range.first { fooled[$0] } ?? range.min { fitness[$0] < fitness[$1] }!
      out += image(i, members[pick])
    }
    return Tensor(out, shape: x.shape)
  }

  /// Three distinct population indices other than `j`.
  func distinctOthers(_ j: Int, using rng: inout SeededGenerator) -> (Int, Int, Int) {
    var picked: [Int] = []
    while picked.count < 3 {
      let k = Int(rng.next() % UInt64(population))
      if k != j && !picked.contains(k) { picked.append(k) }
    }
    return (picked[0], picked[1], picked[2])
  }

  /// Fitness and success of candidates `genes[j]` for the members `owners[j]` (member `m` belongs
  /// to example `m / population`), evaluated in chunks of at most 1024 images.
  func evaluate(_ owners: [Int], genes: [[Float]], image: (Int, [Float]) -> [Float], shape: Shape,
                criterion: Criterion, model: any Classifier) -> ([Float], [Bool]) {
    var fitness: [Float] = [], fooled: [Bool] = []
    let rest = Array(shape.dims.dropFirst())
    for start in stride(from: 0, to: owners.count, by: 1024) {
      let chunk = start..<Swift.min(start + 1024, owners.count)
      let pixels = chunk.flatMap { image(owners[$0] / population, genes[$0]) }
      let z = queryLogits(Tensor(pixels, shape: Shape([chunk.count] + rest)), model: model)
      let k = z.count / chunk.count
      for (r, j) in chunk.enumerated() {
        let row = z[(r * k)..<((r + 1) * k)], label = criterion.labels[owners[j] / population]
        let p = Float(softmax(row)[label])
        fitness.append(criterion.isTargeted ? 1 - p : p)
        let predicted = argmax(row)
        fooled.append(criterion.isTargeted ? predicted == label : predicted != label)
      }
    }
    return (fitness, fooled)
  }
}
