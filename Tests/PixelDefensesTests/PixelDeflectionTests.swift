import Foundation
import Testing
import PixelNN
import PixelTensor
@testable import PixelDefenses

@Suite("Pixel deflection (Prakash et al.): Haar pyramid, BayesShrink, deflections, BPDA")
struct PixelDeflectionTests {
  @Test("the Haar pyramid inverts to 1e-12, odd extents included",
        arguments: [(28, 28, 1), (28, 28, 4), (7, 5, 2), (1, 9, 3), (32, 32, 3), (3, 1, 1)])
  func pyramidInverts(_ shape: (Int, Int, Int)) {
    let (h, w, levels) = shape
    var g = SeededGenerator(seed: UInt64(h * 100 + w))
    let x = (0..<(h * w)).map { _ in Double(g.nextUnitFloat()) }
    let back = HaarPyramid(x, height: h, width: w, levels: levels).reconstruct()
    #expect(zip(x, back).allSatisfy { Swift.abs($0 - $1) < 1e-12 })
  }

  @Test("BayesShrink on a 2 × 2 image matches the closed form; σ = 0 leaves the image alone")
  func bayesShrinkByHand() {
    let (a, b, c, d) = (0.9, 0.1, 0.3, 0.5)
    let sigma = 0.2, variance = sigma * sigma
    // One Haar level of [[a, b], [c, d]]: the approximation and the three details.
    let ll = (a + b + c + d) / 2, lh = (a + b - c - d) / 2, hl = (a - b + c - d) / 2, hh = (a - b - c + d) / 2
    func shrink(_ v: Double) -> Double {
      let t = variance / Swift.max(v * v - variance, Double.ulpOfOne).squareRoot()
      return v > 0 ? Swift.max(v - t, 0) : -Swift.max(-v - t, 0)
    }
    let (slh, shl, shh) = (shrink(lh), shrink(hl), shrink(hh))
    let expected = [(ll + slh + shl + shh) / 2, (ll + slh - shl - shh) / 2, (ll - slh + shl - shh) / 2, (ll - slh - shl + shh) / 2]
    let out = WaveletDenoiser(sigma: sigma, levels: 1).denoise([a, b, c, d], height: 2, width: 2)
    #expect(zip(out, expected.map { Swift.min(Swift.max($0, 0), 1) }).allSatisfy { Swift.abs($0 - $1) < 1e-12 }, "\(out) \(expected)")
    #expect(WaveletDenoiser(sigma: 0).denoise([a, b, c, d], height: 2, width: 2).enumerated().allSatisfy {
      Swift.abs($0.element - [a, b, c, d][$0.offset]) < 1e-12
    })
    #expect(WaveletDenoiser.defaultLevels(height: 28, width: 28) == 1 && WaveletDenoiser.defaultLevels(height: 32, width: 32) == 2)
  }

  @Test("each deflection copies a pixel from within the window of the same channel; channels take turns")
  func deflectionsStayInTheWindow() {
    let layer = PixelDeflection(deflections: 50, window: 2, sigma: 0)
    let (c, h, w) = (3, 9, 7)
    let original = (0..<(c * h * w)).map(Float.init)
    var image = original
    var rng = SeededGenerator(seed: 3)
    let moves = layer.deflect(&image, channels: c, height: h, width: w, using: &rng)
    #expect(moves.count == 50)
    var replay = original
    for (k, m) in moves.enumerated() {
      #expect(m.channel == k % c)
      #expect(Swift.abs(m.source.0 - m.target.0) <= 2 && Swift.abs(m.source.1 - m.target.1) <= 2 && m.source != m.target)
      #expect((0..<h).contains(m.source.0) && (0..<w).contains(m.source.1))
      replay[(m.channel * h + m.target.0) * w + m.target.1] = replay[(m.channel * h + m.source.0) * w + m.source.1]
    }
    #expect(replay == image)
    #expect(zip(original, image).filter { $0 != $1 }.count <= 50)
    // A saliency map of ones skips every candidate: nothing moves, and the draw stops.
    let blocked = PixelDeflection(deflections: 5, window: 2, sigma: 0, saliency: .ones([h, w]))
    var untouched = original
    #expect(blocked.deflect(&untouched, channels: c, height: h, width: w, using: &rng).isEmpty && untouched == original)
  }

  @Test("the layer is BPDA (identity gradient), randomized, seeded, and a spec kind")
  func layerContract() throws {
    let spec = ModelSpec(input: [1, 8, 8], classes: 2, layers: [
      LayerSpec(type: "pixel_deflection", name: "deflect"), LayerSpec(type: "flatten"), LayerSpec(type: "linear", name: "fc", out: 2)])
    var layer = spec.layers[0]
    try layer.setOption("deflections", 20)
    try layer.setOption("window", 3)
    let model = try Model(spec: ModelSpec(input: spec.input, classes: 2, layers: [layer] + spec.layers.dropFirst()), seed: 1,
                          builder: .withDefenses)
    #expect(model.isRandomized)
    let deflection = try #require(model.network.layers[0].layer as? PixelDeflection)
    var g = SeededGenerator(seed: 2)
    let x = Tensor.uniform([2, 1, 8, 8], using: &g).requiringGradient()
    let w = Tensor.normal([2, 1, 8, 8], using: &g)
    deflection.reseed(5)
    let y = deflection(x)
    #expect(gradients(of: (y * w).sum(), wrt: [x])[0].scalars == w.scalars)
    deflection.reseed(5)
    #expect(deflection(x).scalars == y.scalars)
    #expect(y.scalars != x.scalars && y.scalars.allSatisfy { (0...1).contains($0) })
    var bad = layer
    try bad.setOption("sigma", 5.0)
    #expect { try Model(spec: ModelSpec(input: [1, 8, 8], classes: 2, layers: [bad]), seed: 0, builder: .withDefenses) } throws: {
      "\($0)".contains("sigma")
    }
  }

  @Test("random resize-and-pad takes min_scale (the PRM code's shrink by [0.9, 1]) or min_size, not both")
  func resizeScale() throws {
    func build(_ options: [String: Double]) throws -> RandomResizePad {
      var layer = LayerSpec(type: "random_resize_pad")
      if let s = options["min_scale"] { try layer.setOption("min_scale", s) }
      if let m = options["min_size"] { try layer.setOption("min_size", Int(m)) }
      let spec = ModelSpec(input: [1, 28, 28], classes: 2, layers: [layer, LayerSpec(type: "flatten"), LayerSpec(type: "linear", out: 2)])
      return try #require(try Model(spec: spec, seed: 0, builder: .withDefenses).network.layers[0].layer as? RandomResizePad)
    }
    #expect(try build(["min_scale": 0.9]).minimumSize == 26)
    #expect(try build(["min_size": 20]).minimumSize == 20)
    #expect(try build([:]).minimumSize == 24)
    #expect { try build(["min_scale": 0.9, "min_size": 20]) } throws: { "\($0)".contains("not both") }
    #expect { try build(["min_scale": 1.5]) } throws: { "\($0)".contains("min_scale") }
  }
}
