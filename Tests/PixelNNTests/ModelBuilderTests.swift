import Foundation
import Testing
import PixelTensor
import _TestSupport
@testable import PixelNN

/// A layer kind defined outside PixelNN: adds `shift` to every input and, like a randomized
/// defense, jitters by a seeded draw in inference mode when `jitter` is set.
final class ShiftLayer: RandomizedLayer {
  var mode: Mode = .training
  let shift: Float, jitter: Bool
  var generator: SeededGenerator
  init(shift: Float, jitter: Bool, seed: UInt64) { self.shift = shift; self.jitter = jitter; generator = SeededGenerator(seed: seed) }
  var drawsInInference: Bool { jitter }
  func reseed(_ seed: UInt64) { generator = SeededGenerator(seed: seed) }
  func callAsFunction(_ x: Tensor) -> Tensor { x + (shift + (jitter ? generator.nextUnitFloat() : 0)) }

  static let specBuilder = LayerBuilder(type: "shift", options: ["amount", "jitter"]) { s, input, context in
    let amount = try context.required(context.option(s, "amount", as: Float.self), "amount", for: s.type)
    let jitter = try context.option(s, "jitter", as: Bool.self) ?? false
    return (ShiftLayer(shift: amount, jitter: jitter, seed: s.seed ?? context.seed), input)
  }
}

@Suite("Open model building")
struct ModelBuilderTests {
  static let custom = ModelBuilder.standard.adding(ModelBuilder([ShiftLayer.specBuilder]))

  static func spec(jitter: Bool) throws -> ModelSpec {
    var shift = LayerSpec(type: "shift")
    try shift.setOption("amount", Float(0.25))
    try shift.setOption("jitter", jitter)
    return ModelSpec(input: [4], classes: 2, layers: [shift, LayerSpec(type: "linear", name: "fc", out: 2)])
  }

  @Test("a layer kind from another module builds, checkpoints and reloads without PixelNN knowing it")
  func customKind() throws {
    let model = try Model(spec: Self.spec(jitter: false), seed: 1, builder: Self.custom)
    let x = Tensor([0, 1, 2, 3], shape: [1, 4])
    let fc = try #require(model.network.layers.last?.layer as? Linear)
    #expect(withoutGradients { model(x) }.scalars == withoutGradients { fc(x + 0.25) }.scalars)
    #expect(!model.isRandomized)
    let url = temporaryFolder().appendingPathComponent("custom.safetensors")
    try Checkpoint.save(model, to: url)
    let (loaded, _) = try Checkpoint.load(from: url, builder: Self.custom)
    #expect(loaded.spec == model.spec)
    #expect(withoutGradients { loaded(x) }.scalars == withoutGradients { model(x) }.scalars)
  }

  @Test("Model finds randomized layers through the protocol and reseeds them reproducibly")
  func randomizedProtocol() throws {
    let model = try Model(spec: Self.spec(jitter: true), seed: 1, builder: Self.custom)
    #expect(model.isRandomized)
    let x = Tensor([0, 1, 2, 3], shape: [1, 4])
    model.reseedRandomizedLayers(9)
    let a = withoutGradients { model(x) }.scalars
    #expect(withoutGradients { model(x) }.scalars != a)
    model.reseedRandomizedLayers(9)
    #expect(withoutGradients { model(x) }.scalars == a)
  }

  @Test("option values read back the same from a file and from code")
  func optionsRoundTrip() throws {
    let spec = try Self.spec(jitter: true)
    let decoded = try ModelSpec.decode(Data(spec.jsonString().utf8), source: "s")
    #expect(decoded == spec)
    #expect(spec.jsonString().contains(#""amount":0.25"#))
    let integral = try ModelSpec.decode(Data(#"{"format":"pixelrobust-model/1","input":[4],"classes":2,"layers":[{"type":"shift","amount":1.0},{"type":"linear","out":2}]}"#.utf8), source: "s")
    #expect(try integral.layers[0].option("amount", as: Float.self) == 1)
    #expect(integral.jsonString().contains(#""amount":1,"#))
  }

  struct Bad: Sendable, CustomTestStringConvertible {
    let layers: String
    let message: String
    var testDescription: String { message }
  }

  static let bad: [Bad] = [
    .init(layers: #"{"type":"shift"}"#, message: "layers[0]: shift needs 'amount'"),
    .init(layers: #"{"type":"shift","amount":"lots"}"#, message: "'amount' of shift must be a number"),
    .init(layers: #"{"type":"shift","amount":1,"amonut":2}"#, message: "shift has no field 'amonut' (its own fields: amount, jitter)"),
    .init(layers: #"{"type":"linear","out":2,"widht":3}"#, message: "linear has no field 'widht'"),
    .init(layers: #"{"type":"prm"}"#, message: "unknown layer type 'prm' (known: "),
    .init(layers: #"{"type":"linear","out":1099511627776}"#, message: "'out' must be in 1...16777216"),
    .init(layers: #"{"type":"linear","out":64},{"type":"linear","out":16777216}"#,
          message: "layers[1]: the weight of shape [16777216, 64] exceeds 268435456 elements"),
  ]

  @Test("bad specs name the source, the layer path and the problem", arguments: bad)
  func errors(_ b: Bad) {
    let json = #"{"format":"pixelrobust-model/1","input":[4],"classes":2,"layers":["# + b.layers + "]}"
    do {
      _ = try Model(spec: try ModelSpec.decode(Data(json.utf8), source: "spec.json"), seed: 0, source: "spec.json",
                    builder: Self.custom)
      Issue.record("accepted \(b.layers)")
    } catch let e as ModelSpecError {
      #expect(e.description.hasPrefix("spec.json: invalid model spec: "), "\(e)")
      #expect(e.description.contains(b.message), "\(e)")
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }

  @Test("nesting deeper than the limit is refused before anything is built")
  func nesting() throws {
    var inner = [LayerSpec(type: "relu")]
    for i in 0..<(LayerBuildContext.maximumNesting + 1) { inner = [LayerSpec(type: "residual", name: "r\(i)", body: inner)] }
    let spec = ModelSpec(input: [2], classes: 2, layers: inner)
    #expect(throws: ModelSpecError.self) { _ = try Model(spec: spec, seed: 0) }
  }

  @Test("the known kinds are listed sorted and grow with the kinds added")
  func layerTypes() {
    #expect(ModelBuilder.standard.layerTypes.first == "avgpool2d")
    #expect(Self.custom.layerTypes.contains("shift") && !ModelBuilder.standard.layerTypes.contains("shift"))
    #expect(ModelBuilder.standard.layerTypes == ModelBuilder.standard.layerTypes.sorted())
  }
}

@Suite("Checkpoint properties")
struct CheckpointPropertyTests {
  @Test("random networks save and load back with the same spec, state and outputs; truncations are typed errors")
  func roundTrip() throws {
    var rng = SeededGenerator(seed: 17)
    let folder = temporaryFolder("checkpoint-properties")
    for trial in 0..<12 {
      let channels = 1 + Int(rng.next() % 3), side = 6 + Int(rng.next() % 5), width = 1 + Int(rng.next() % 6)
      var layers = [LayerSpec(type: "conv2d", name: "conv", out: width, kernel: 3, padding: Int(rng.next() % 2))]
      if trial % 2 == 0 { layers.append(LayerSpec(type: "batchnorm2d", name: "bn")) }
      layers += [LayerSpec(type: trial % 3 == 0 ? "tanh" : "relu"), LayerSpec(type: "flatten"),
                 LayerSpec(type: "linear", name: "fc", out: 2 + trial % 4)]
      let spec = ModelSpec(input: [channels, side, side], classes: 2 + trial % 4, layers: layers)
      let model = try Model(spec: spec, seed: UInt64(trial))
      let url = folder.appendingPathComponent("\(trial).safetensors")
      try Checkpoint.save(model, to: url, metadata: ["trial": "\(trial)"])
      let (loaded, metadata) = try Checkpoint.load(from: url)
      #expect(loaded.spec == spec && metadata["trial"] == "\(trial)")
      #expect(loaded.stateTensors.mapValues(\.scalars) == model.stateTensors.mapValues(\.scalars))
      let x = Tensor.uniform([2, channels, side, side], using: &rng)
      model.setMode(.inference)
      #expect(withoutGradients { loaded(x) }.scalars == withoutGradients { model(x) }.scalars)
      let bytes = try Data(contentsOf: url)
      for cut in stride(from: 0, to: bytes.count, by: Swift.max(1, bytes.count / 11)) {
        try bytes.prefix(cut).write(to: url)
        #expect(throws: (any Error).self) { _ = try Checkpoint.load(from: url) }
        do { _ = try Checkpoint.load(from: url) } catch { #expect("\(error)".contains(url.path), "\(error)") }
      }
    }
  }
}
