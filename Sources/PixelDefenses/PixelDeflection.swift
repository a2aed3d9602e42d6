import Foundation
import PixelNN
import PixelTensor

/// Pixel deflection (Prakash et al., CVPR 2018, https://arxiv.org/abs/1801.08926): each forward
/// pass replaces `deflections` randomly chosen pixel values by the value of a random neighbour
/// within `±window` pixels (same channel), then removes the resulting noise with wavelet
/// soft-thresholding (``WaveletDenoiser``, BayesShrink at σ). Paper defaults: 200 deflections,
/// window 10, σ = 0.04.
///
/// As in the authors' code, a candidate pixel is skipped with probability `saliency[i, j]`, so
/// salient pixels are deflected less often; without a saliency map (the paper's R-CAM; our
/// gradient map G normalised to `[0, 1]` is the natural substitute) every pixel is equally likely.
///
/// Deflection and denoising have no useful derivative, so the layer is BPDA (Athalye et al.
/// 2018): its backward pass is the identity, `y = x + stop(D(x) − x)`, which lets adaptive
/// attacks see through it (with EOT over its randomness).
public final class PixelDeflection: RandomizedLayer {
  public var mode: Mode = .training
  /// Deflections per image and window half-width in pixels.
  public let deflections: Int
  public let window: Int
  public let denoiser: WaveletDenoiser
  /// `[H, W]` skip probabilities in `[0, 1]`, or `nil` for uniform choice.
  public let saliency: Buffer?
  private var generator: SeededGenerator

  /// Deflection with `deflections ≥ 0` moves within `window ≥ 1`, denoised at σ, drawing from `seed`.
  public init(deflections: Int = 200, window: Int = 10, sigma: Double = 0.04, saliency: Tensor? = nil, seed: UInt64 = 0) {
    precondition(deflections >= 0 && window >= 1, "deflection needs deflections ≥ 0 and a window ≥ 1")
    self.deflections = deflections
    self.window = window
    denoiser = WaveletDenoiser(sigma: sigma)
    self.saliency = saliency.map { Buffer($0) }
    generator = SeededGenerator(seed: seed)
  }

  public var members: [ModuleMember] { saliency.map { [.buffer("saliency", $0)] } ?? [] }

  /// `true`: every forward pass draws new deflections.
  public var drawsInInference: Bool { true }

  public func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }

  /// One deflection: the value at `source` (same channel) replaced the one at `target`.
  public struct Move: Equatable, Sendable {
    public var channel: Int, target: (Int, Int), source: (Int, Int)
    public static func == (a: Move, b: Move) -> Bool {
      a.channel == b.channel && a.target == b.target && a.source == b.source
    }
  }

  /// Applies `deflections` moves to one `[C, H, W]` image in place and returns them, in order.
  /// Channels take turns, as in the authors' code; sources stay inside the image.
  public func deflect(_ image: inout [Float], channels c: Int, height h: Int, width w: Int,
                      using rng: inout SeededGenerator) -> [Move] {
    deflect(&image, channels: c, height: h, width: w, skip: saliency?.value.scalars, using: &rng)
  }

  /// ``deflect(_:channels:height:width:using:)`` with the saliency map's values read once by
  /// the caller (a batch reads them once, not per image).
  func deflect(_ image: inout [Float], channels c: Int, height h: Int, width w: Int, skip: [Float]?,
               using rng: inout SeededGenerator) -> [Move] {
    var moves: [Move] = []
    guard h * w > 1 else { return moves }
    var channel = 0
    // A saliency map of all ones would skip every candidate: stop after a bounded number of draws.
    var attempts = 0
    let limit = 1000 * Swift.max(deflections, 1)
    while moves.count < deflections && attempts < limit {
      attempts += 1
      let y = Int.random(in: 0..<h, using: &rng), x = Int.random(in: 0..<w, using: &rng)
      if let skip, Float.random(in: 0..<1, using: &rng) < skip[y * w + x] { continue }
      var sy = y, sx = x
      repeat {
        sy = y + Int.random(in: -window...window, using: &rng)
        sx = x + Int.random(in: -window...window, using: &rng)
      } while sy < 0 || sy >= h || sx < 0 || sx >= w || (sy == y && sx == x)
      image[(channel * h + y) * w + x] = image[(channel * h + sy) * w + sx]
      moves.append(Move(channel: channel, target: (y, x), source: (sy, sx)))
      channel = (channel + 1) % c
    }
    return moves
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    precondition(x.rank == 4, "pixel deflection needs [N, C, H, W], got \(x.shape)")
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    var values = x.detached().scalars
    let image = c * h * w, skip = saliency?.value.scalars
    for i in 0..<n {
      var one = Array(values[(i * image)..<((i + 1) * image)])
      _ = deflect(&one, channels: c, height: h, width: w, skip: skip, using: &generator)
      for ch in 0..<c {
        let plane = one[(ch * h * w)..<((ch + 1) * h * w)].map(Double.init)
        let clean = denoiser.denoise(plane, height: h, width: w)
        for (j, v) in clean.enumerated() { values[i * image + ch * h * w + j] = Float(v) }
      }
    }
    // BPDA: the output's values, the input's gradient.
    let offset = Tensor(values, shape: x.shape) - x.detached()
    return x + offset
  }
}

extension PixelDeflection {
  /// The spec kind `pixel_deflection`: fields `deflections` (200), `window` (10), `sigma` (0.04),
  /// `saliency` (`true` to hold a `[H, W]` map in the checkpoint's `saliency` buffer) and `seed`.
  public static let specBuilder = LayerBuilder(type: "pixel_deflection", options: ["deflections", "window", "sigma", "saliency"]) {
    s, input, context in
    let (_, h, w) = try context.image(input, for: s.type)
    let deflections = try context.nonNegative(context.option(s, "deflections", as: Int.self) ?? 200, "deflections")
    let window = try context.positive(context.option(s, "window", as: Int.self) ?? 10, "window")
    let sigma = try context.option(s, "sigma", as: Double.self) ?? 0.04
    guard sigma.isFinite, sigma >= 0, sigma <= 1 else { throw context.invalid("pixel_deflection needs 0 ≤ sigma ≤ 1, got \(sigma)") }
    let map = try context.option(s, "saliency", as: Bool.self) ?? false
    return (PixelDeflection(deflections: deflections, window: window, sigma: sigma,
                            saliency: map ? .zeros([h, w]) : nil, seed: s.seed ?? context.seed &+ context.ordinal(of: s.type)), input)
  }
}
