import Foundation
import PixelTensor

/// What the per-pixel gradient is taken of.
public enum GradientTarget: String, Codable, Sendable, CaseIterable {
  /// `∂ CE(f(x), y) / ∂x` (Hwang et al.'s map).
  case loss
  /// `∂ f(x)[ŷ] / ∂x` for the predicted class ŷ.
  case logit
}

/// Running sums of input gradients over a data set: `Σ|g|`, `Σ g` and per-class `Σ|g|`, with
/// counts. Partial sums from shards merge by addition, so a large data set can be split across
/// machines and combined (`pixelrobust merge`). Sums are kept exactly as ``ExactSum`` pairs, so
/// merged shards hold the single run's sums bit for bit.
public struct GradientMapAccumulator: Sendable, Equatable {
  /// `[C, H, W]` of one image.
  public let imageShape: [Int]
  public let classes: Int
  public private(set) var count = 0
  public private(set) var absoluteSum: [Double]
  public private(set) var signedSum: [Double]
  /// `classes × C·H·W`.
  public private(set) var classAbsoluteSum: [Double]
  public private(set) var classCounts: [Int]
  /// Images whose whole gradient is exactly zero.
  public private(set) var zeroGradientImages = 0
  /// Images whose gradient has NaN or ±∞ (left out of the sums).
  public private(set) var nonFiniteGradientImages = 0
  /// `Σ_n ‖g_n‖₂` over the counted images (`nil` for partial sums written before it was kept).
  public private(set) var gradientNormSum: Double? = 0
  /// The low halves of the sums' ``ExactSum`` pairs.
  var absoluteSumLow: [Double], signedSumLow: [Double], classAbsoluteSumLow: [Double], gradientNormSumLow = 0.0

  /// Empty sums for images of `imageShape` and `classes` classes.
  public init(imageShape: [Int], classes: Int) {
    self.imageShape = imageShape
    self.classes = classes
    let size = imageShape.reduce(1, *)
    absoluteSum = [Double](repeating: 0, count: size)
    signedSum = [Double](repeating: 0, count: size)
    classAbsoluteSum = [Double](repeating: 0, count: size * classes)
    absoluteSumLow = absoluteSum
    signedSumLow = signedSum
    classAbsoluteSumLow = classAbsoluteSum
    classCounts = [Int](repeating: 0, count: classes)
  }

  var pixelCount: Int { imageShape.reduce(1, *) }

  /// Adds a batch of per-example gradients `[N, C, H, W]` with their labels.
  public mutating func add(_ gradients: Tensor, labels: [Int]) {
    let size = pixelCount
    precondition(Array(gradients.shape.dims.dropFirst()) == imageShape && gradients.shape[0] == labels.count,
                 "gradients \(gradients.shape) do not match \(labels.count) images of \(imageShape)")
    gradients.withUnsafeBufferPointer { g in
      for (n, y) in labels.enumerated() {
        let base = n * size
        var finite = true, allZero = true
        for i in 0..<size {
          let v = g[base + i]
          if !v.isFinite { finite = false; break }
          if v != 0 { allZero = false }
        }
        guard finite else { nonFiniteGradientImages += 1; continue }
        if allZero { zeroGradientImages += 1 }
        count += 1
        let hasClass = y >= 0 && y < classes
        if hasClass { classCounts[y] += 1 }
        var squares = 0.0
        for i in 0..<size {
          let v = Double(g[base + i])
          ExactSum.add(Swift.abs(v), hi: &absoluteSum[i], lo: &absoluteSumLow[i])
          ExactSum.add(v, hi: &signedSum[i], lo: &signedSumLow[i])
          squares += v * v
          if hasClass { ExactSum.add(Swift.abs(v), hi: &classAbsoluteSum[y * size + i], lo: &classAbsoluteSumLow[y * size + i]) }
        }
        if var sum = gradientNormSum {
          ExactSum.add(squares.squareRoot(), hi: &sum, lo: &gradientNormSumLow)
          gradientNormSum = sum
        }
      }
    }
  }

  /// Adds another shard's sums.
  /// - Throws: ``AnalysisError/incompatible`` when the shapes or class counts differ.
  public mutating func merge(_ other: GradientMapAccumulator) throws {
    guard other.imageShape == imageShape, other.classes == classes else {
      throw AnalysisError.incompatible("maps of \(imageShape)/\(classes) classes and \(other.imageShape)/\(other.classes) classes")
    }
    count += other.count
    zeroGradientImages += other.zeroGradientImages
    nonFiniteGradientImages += other.nonFiniteGradientImages
    if var sum = gradientNormSum, let o = other.gradientNormSum {
      ExactSum.add(pair: o, other.gradientNormSumLow, hi: &sum, lo: &gradientNormSumLow)
      gradientNormSum = sum
    } else {
      gradientNormSum = nil
    }
    for i in absoluteSum.indices {
      ExactSum.add(pair: other.absoluteSum[i], other.absoluteSumLow[i], hi: &absoluteSum[i], lo: &absoluteSumLow[i])
      ExactSum.add(pair: other.signedSum[i], other.signedSumLow[i], hi: &signedSum[i], lo: &signedSumLow[i])
    }
    for i in classAbsoluteSum.indices {
      ExactSum.add(pair: other.classAbsoluteSum[i], other.classAbsoluteSumLow[i], hi: &classAbsoluteSum[i], lo: &classAbsoluteSumLow[i])
    }
    for k in 0..<classes { classCounts[k] += other.classCounts[k] }
  }

  /// `G[c, i, j] = mean_n |g_n[c, i, j]|`, shaped `[C, H, W]`.
  public var meanAbsolute: Tensor { Tensor(absoluteSum.map { Float($0 / Double(Swift.max(count, 1))) }, shape: Shape(imageShape)) }
  /// `mean_n g_n`, shaped `[C, H, W]`.
  public var meanSigned: Tensor { Tensor(signedSum.map { Float($0 / Double(Swift.max(count, 1))) }, shape: Shape(imageShape)) }
  /// `Ḡ[i, j] = (1/C) Σ_c G[c, i, j]`, shaped `[H, W]`.
  public var channelMean: Tensor { meanAbsolute.channelMeanMap() }
  /// Per-class maps `[K, C, H, W]` (zeros for a class with no image).
  public var classMeans: Tensor {
    let size = pixelCount
    var out = [Float](repeating: 0, count: classes * size)
    for k in 0..<classes where classCounts[k] > 0 {
      for i in 0..<size { out[k * size + i] = Float(classAbsoluteSum[k * size + i] / Double(classCounts[k])) }
    }
    return Tensor(out, shape: Shape([classes] + imageShape))
  }

  // MARK: Persistence

  /// The partial sums as safetensors (F64 sums, counts in metadata), so shards can be merged later.
  public func write(to url: URL, metadata: [String: String] = [:]) throws {
    var meta = metadata
    meta["pixelrobust.map.count"] = String(count)
    meta["pixelrobust.map.classes"] = String(classes)
    meta["pixelrobust.map.image_shape"] = imageShape.map(String.init).joined(separator: ",")
    meta["pixelrobust.map.class_counts"] = classCounts.map(String.init).joined(separator: ",")
    meta["pixelrobust.map.zero_gradient_images"] = String(zeroGradientImages)
    meta["pixelrobust.map.non_finite_gradient_images"] = String(nonFiniteGradientImages)
    if let gradientNormSum {
      meta["pixelrobust.map.gradient_norm_sum"] = "\(gradientNormSum)"
      meta["pixelrobust.map.gradient_norm_sum_low"] = "\(gradientNormSumLow)"
    }
    try SafeTensors.writeFloat64(["abs_sum": (imageShape, absoluteSum), "signed_sum": (imageShape, signedSum),
                                  "class_abs_sum": ([classes] + imageShape, classAbsoluteSum),
                                  "abs_sum_low": (imageShape, absoluteSumLow), "signed_sum_low": (imageShape, signedSumLow),
                                  "class_abs_sum_low": ([classes] + imageShape, classAbsoluteSumLow)], metadata: meta, to: url)
  }

  /// Reads partial sums written by ``write(to:metadata:)``.
  public static func read(from url: URL) throws -> (GradientMapAccumulator, metadata: [String: String]) {
    let (arrays, meta) = try SafeTensors.readFloat64(from: url)
    func ints(_ key: String) throws -> [Int] {
      guard let text = meta[key] else { throw AnalysisError.malformed(path: url.path, detail: "metadata lacks \(key)") }
      return text.split(separator: ",").compactMap { Int($0) }
    }
    let shape = try ints("pixelrobust.map.image_shape"), classes = try ints("pixelrobust.map.classes").first ?? 0
    var acc = GradientMapAccumulator(imageShape: shape, classes: classes)
    guard let a = arrays["abs_sum"], let s = arrays["signed_sum"], let c = arrays["class_abs_sum"],
          a.values.count == acc.absoluteSum.count, s.values.count == acc.signedSum.count,
          c.values.count == acc.classAbsoluteSum.count else {
      throw AnalysisError.malformed(path: url.path, detail: "sums missing or of the wrong size")
    }
    acc.absoluteSum = a.values
    acc.signedSum = s.values
    acc.classAbsoluteSum = c.values
    // Partials written before the sums were exact pairs have no low halves: zeros.
    for (key, size, low) in [("abs_sum_low", a.values.count, \GradientMapAccumulator.absoluteSumLow),
                             ("signed_sum_low", s.values.count, \.signedSumLow), ("class_abs_sum_low", c.values.count, \.classAbsoluteSumLow)] {
      guard let values = arrays[key]?.values else { continue }
      guard values.count == size else { throw AnalysisError.malformed(path: url.path, detail: "\(key) of the wrong size") }
      acc[keyPath: low] = values
    }
    acc.gradientNormSumLow = meta["pixelrobust.map.gradient_norm_sum_low"].flatMap(Double.init) ?? 0
    acc.count = try ints("pixelrobust.map.count").first ?? 0
    acc.classCounts = try ints("pixelrobust.map.class_counts")
    acc.zeroGradientImages = try ints("pixelrobust.map.zero_gradient_images").first ?? 0
    acc.nonFiniteGradientImages = try ints("pixelrobust.map.non_finite_gradient_images").first ?? 0
    acc.gradientNormSum = meta["pixelrobust.map.gradient_norm_sum"].flatMap(Double.init)
    guard acc.classCounts.count == classes else { throw AnalysisError.malformed(path: url.path, detail: "class counts") }
    return (acc, meta)
  }
}

/// A problem with maps or their files; names the file where there is one.
public enum AnalysisError: Error, Equatable, CustomStringConvertible {
  case incompatible(String)
  case malformed(path: String, detail: String)
  /// A map file (`--map`) that is not a usable per-pixel map.
  case unusableMap(path: String, detail: String)

  public var description: String {
    switch self {
    case let .unusableMap(p, d): return "\(p): not a usable gradient map: \(d)"
    case .incompatible(let d): return "cannot merge gradient maps: \(d)"
    case let .malformed(p, d): return "\(p): not a gradient-map partial: \(d)"
    }
  }
}
