import Foundation
import PixelMasks
import PixelNN
import PixelTensor

extension Model {
  /// The model's PRM layer, if its first layer is one.
  public var prm: PRMLayer? { network.layers.first?.layer as? PRMLayer }
}

/// Model specs and weights for PRM-defended models and the switching defense.
public enum PRMModels {
  /// The name of the PRM layer in every spec built here.
  public static let layerName = "prm"

  /// The spec of a PRM (`prm` layer) in front of `classifier`'s layers.
  /// - Throws: ``ModelSpecError`` when the classifier already has a layer named `prm`.
  public static func spec(classifier: ModelSpec, designated: DesignatedPixels, width: Int, depth: Int, mix: Float) throws -> ModelSpec {
    guard !classifier.layers.contains(where: { $0.name == layerName }) else {
      throw ModelSpecError.invalid(source: "classifier", reason: "a layer is already named '\(layerName)'")
    }
    var prm = LayerSpec(type: "prm", name: layerName)
    try prm.setOption("width", width)
    try prm.setOption("depth", depth)
    try prm.setOption("mix", mix)
    switch designated {
    case let .pattern(p, shift):
      try prm.setOption("pattern", p.rawValue)
      try prm.setOption("shift", [shift.0, shift.1])
    case let .mask(m):
      try prm.setOption("mask", String(m.values.map { $0 ? "1" : "0" }))
    }
    return ModelSpec(input: classifier.input, classes: classifier.classes, layers: [prm] + classifier.layers)
  }

  /// A switching defense over `models` (each a PRM-defended model): one branch per model, its
  /// layers and weights kept; `chain` PRMs applied per forward pass.
  public static func switching(_ models: [Model], chain: Int, seed: UInt64) throws -> (spec: ModelSpec, state: [String: Tensor]) {
    guard let first = models.first else { throw ModelSpecError.invalid(source: "switch", reason: "no models") }
    guard models.allSatisfy({ $0.spec.input == first.spec.input && $0.spec.classes == first.spec.classes }) else {
      throw ModelSpecError.invalid(source: "switch", reason: "the models differ in input shape or classes")
    }
    var layer = LayerSpec(type: "switch", name: "switch")
    try layer.setOption("branches", models.map(\.spec.layers))
    try layer.setOption("chain", chain)
    layer.seed = seed
    var state: [String: Tensor] = [:]
    for (b, m) in models.enumerated() { for (k, v) in m.stateTensors { state["switch.\(b).\(k)"] = v } }
    return (ModelSpec(input: first.spec.input, classes: first.spec.classes, layers: [layer]), state)
  }

  /// Random resize-and-pad (Xie et al., 2018) in front of `classifier`: the baseline randomized defense.
  /// `minimumSize` `nil` takes ``RandomResizePad/defaultMinimumSize(height:width:)``.
  public static func resizePad(_ classifier: Model, minimumSize: Int? = nil, seed: UInt64) throws
    -> (spec: ModelSpec, state: [String: Tensor]) {
    var layer = LayerSpec(type: "random_resize_pad")
    let input = classifier.spec.input
    try layer.setOption("min_size", minimumSize ?? RandomResizePad.defaultMinimumSize(height: input[1], width: input[2]))
    layer.seed = seed
    let spec = ModelSpec(input: classifier.spec.input, classes: classifier.spec.classes, layers: [layer] + classifier.spec.layers)
    // The resize layer is index 0 and parameterless; the classifier keeps its layer names.
    return (spec, classifier.stateTensors)
  }
}
