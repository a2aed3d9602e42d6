import Foundation
import PixelTensor

/// Reads the per-pixel maps that masks are ranked by (`G.npy` or `G_mean.npy` from
/// `gradient-map`, or any `.npy` of the same layout).
public enum GradientMapFile {
  /// The map in `url`: `[H, W]` or `[C, H, W]`, every value finite, not all equal.
  /// - Throws: `NumPyError` for an unreadable file, ``AnalysisError/unusableMap(path:detail:)``
  ///   for another rank (e.g. a flattened `[784]` or a batch `[1, 1, 28, 28]`), a NaN/∞ value,
  ///   or a constant map (every pixel would tie, so top-k would just be the first k pixels).
  public static func read(from url: URL) throws -> Tensor {
    let map = try NumPy.read(from: url)
    guard map.rank == 2 || map.rank == 3 else {
      throw AnalysisError.unusableMap(path: url.path, detail: "shape \(map.shape); expected [H, W] or [C, H, W]")
    }
    let values = map.scalars
    if let bad = values.firstIndex(where: { !$0.isFinite }) {
      throw AnalysisError.unusableMap(path: url.path, detail: "value \(values[bad]) at flat index \(bad)")
    }
    guard let first = values.first, values.contains(where: { $0 != first }) else {
      throw AnalysisError.unusableMap(path: url.path, detail: "every value is \(values.first ?? 0): no pixel ranks above another")
    }
    return map
  }
}
