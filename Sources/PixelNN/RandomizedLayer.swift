/// A layer that draws random numbers from a generator of its own: dropout (in training only) or a
/// randomized defense such as random resizing (in inference too).
///
/// ``Model`` finds these layers through this protocol (``Model/isRandomized``,
/// ``Model/reseedRandomizedLayers(_:)``), so a module can add randomized layers without
/// PixelNN knowing their types.
public protocol RandomizedLayer: Layer {
  /// Whether the layer draws in inference mode, i.e. whether a model holding it answers the same
  /// input differently from call to call and must be attacked with EOT.
  var drawsInInference: Bool { get }
  /// Restarts the layer's sequence of draws from `seed`.
  func reseed(_ seed: UInt64)
}
