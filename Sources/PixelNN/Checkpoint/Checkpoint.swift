import Foundation
import PixelTensor

/// A checkpoint or weight file that does not fit a model; names the file and every offender.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
  /// The file has no model spec in its metadata, or the spec is unusable.
  case notACheckpoint(path: String, reason: String)
  /// A parameter or buffer holds NaN or ±∞ (a diverged run): nothing computed from it means anything.
  case nonFinite(path: String, tensor: String, count: Int)
  /// Strict loading found missing keys, unexpected keys or shape mismatches.
  case stateMismatch(path: String, missing: [String], unexpected: [String], shapeMismatches: [String])

  public var description: String {
    switch self {
    case let .notACheckpoint(p, r): return "\(p): not a pixelrobust checkpoint: \(r)"
    case let .nonFinite(p, t, n): return "\(p): tensor '\(t)' holds \(n) NaN or infinite values (a diverged run?)"
    case let .stateMismatch(p, missing, unexpected, shapes):
      var parts: [String] = []
      if !missing.isEmpty { parts.append("missing keys: \(missing.joined(separator: ", "))") }
      if !unexpected.isEmpty { parts.append("unexpected keys: \(unexpected.joined(separator: ", "))") }
      if !shapes.isEmpty { parts.append("shape mismatches: \(shapes.joined(separator: "; "))") }
      return "\(p): weights do not fit the model: " + parts.joined(separator: "; ")
    }
  }
}

extension Module {
  /// Loads parameters and buffers by dotted path from `tensors`.
  ///
  /// With `strict`, every missing key, unexpected key and shape mismatch is collected and
  /// thrown together (nothing is changed then). Keys for which `ignoring` is true are skipped
  /// (e.g. batch norm's `num_batches_tracked`).
  public func loadState(_ tensors: [String: Tensor], source: String, strict: Bool = true,
                        ignoring: (String) -> Bool = { _ in false }) throws {
    var expected: [String: Shape] = [:]
    for (n, p) in namedParameters { expected[n] = p.value.shape }
    for (n, b) in namedBuffers { expected[n] = b.value.shape }
    let offered = tensors.filter { !ignoring($0.key) }
    let missing = expected.keys.filter { offered[$0] == nil }.sorted()
    let unexpected = offered.keys.filter { expected[$0] == nil }.sorted()
    let shapes = offered.compactMap { k, v -> String? in
      guard let e = expected[k], e != v.shape else { return nil }
      return "\(k): model \(e), file \(v.shape)"
    }.sorted()
    if (strict && (!missing.isEmpty || !unexpected.isEmpty)) || !shapes.isEmpty {
      throw CheckpointError.stateMismatch(path: source, missing: strict ? missing : [],
                                          unexpected: strict ? unexpected : [], shapeMismatches: shapes)
    }
    for (n, p) in namedParameters { if let t = offered[n] { p.value = t.detached().requiringGradient() } }
    for (n, b) in namedBuffers { if let t = offered[n] { b.value = t.detached() } }
  }
}

/// Model checkpoints: one safetensors file with the tensors by dotted path and, in
/// `__metadata__`, the model spec JSON under `pixelrobust.model` plus any training settings.
public enum Checkpoint {
  /// The metadata key holding the model spec JSON.
  public static let modelKey = "pixelrobust.model"

  /// Writes `model` (parameters and buffers) and `metadata` atomically; byte-reproducible.
  public static func save(_ model: Model, to url: URL, metadata: [String: String] = [:]) throws {
    var meta = metadata
    meta[modelKey] = model.spec.jsonString()
    try SafeTensors.write(model.stateTensors, metadata: meta, to: url)
  }

  /// Reads a checkpoint: rebuilds the model from its spec with the layer kinds of `builder` and
  /// loads its tensors strictly.
  public static func load(from url: URL, builder: ModelBuilder = .standard) throws
    -> (model: Model, metadata: [String: String]) {
    let archive = try SafeTensors.read(from: url)
    guard let json = archive.metadata[modelKey] else {
      throw CheckpointError.notACheckpoint(
        path: url.path, reason: "no '\(modelKey)' entry in its metadata (import PyTorch weights with `pixelrobust import`)")
    }
    let spec: ModelSpec
    do { spec = try ModelSpec.decode(Data(json.utf8), source: url.path) } catch let e as ModelSpecError {
      throw CheckpointError.notACheckpoint(path: url.path, reason: e.description)
    }
    let model = try Model(spec: spec, seed: 0, source: url.path, builder: builder)
    try model.loadState(archive.tensors, source: url.path)
    try requireFinite(archive.tensors, source: url.path)
    model.setMode(.inference)
    return (model, archive.metadata)
  }

  /// Builds `spec` and loads a PyTorch `state_dict` saved as safetensors (any float dtype),
  /// strictly: every missing key, unexpected key and shape mismatch is reported at once.
  /// Batch norm's `num_batches_tracked` counters are accepted and ignored.
  public static func importWeights(spec: ModelSpec, weights url: URL, specSource: String = "<spec>",
                                   builder: ModelBuilder = .standard) throws -> Model {
    let archive = try SafeTensors.read(from: url)
    let model = try Model(spec: spec, seed: 0, source: specSource, builder: builder)
    try model.loadState(archive.tensors, source: url.path) { $0.hasSuffix(".num_batches_tracked") || $0 == "num_batches_tracked" }
    try requireFinite(model.stateTensors, source: url.path)
    model.setMode(.inference)
    return model
  }

  /// Throws ``CheckpointError/nonFinite(path:tensor:count:)`` for the first tensor (by name)
  /// holding NaN or ±∞.
  static func requireFinite(_ tensors: [String: Tensor], source: String) throws {
    for (name, t) in tensors.sorted(by: { $0.key < $1.key }) {
      let bad = t.withUnsafeBufferPointer { b in b.reduce(0) { $0 + ($1.isFinite ? 0 : 1) } }
      if bad > 0 { throw CheckpointError.nonFinite(path: source, tensor: name, count: bad) }
    }
  }

  /// A 64-bit FNV-1a digest of the model's spec and of every parameter and buffer (in path
  /// order, with shapes and values), as 16 hex digits: two models agree on it exactly when they
  /// compute the same function. Partial results record it so that results of different
  /// models are never merged.
  public static func contentHash(of model: Model) -> String {
    var digest = FNV1a()
    digest.mix(model.spec.jsonString().utf8)
    for (name, tensor) in model.stateTensors.sorted(by: { $0.key < $1.key }) {
      digest.mix(name.utf8)
      digest.mix(tensor.shape.dims.map(String.init).joined(separator: ",").utf8)
      tensor.withUnsafeBufferPointer { digest.mix(UnsafeRawBufferPointer($0)) }
    }
    return digest.hex
  }
}
