import Foundation
import PixelTensor

/// PyTorch reference fixtures that several test bundles use, stored once here (copied from the
/// team's shared fixtures; see `Tests/PixelTensorTests/Fixtures/README.md`).
public enum SharedFixtures {
  /// `tiny_cnn.safetensors`: a conv–pool–linear net in relu and softplus variants with its
  /// inputs, logits, losses, input and parameter gradients, double-backprop penalty gradients and
  /// a Hessian-vector product, computed by PyTorch in float64.
  public static let tinyCNN: SafeTensorsArchive = {
    let url = Bundle.module.url(forResource: "tiny_cnn", withExtension: "safetensors", subdirectory: "Fixtures")!
    return try! SafeTensors.read(from: url)
  }()
}
