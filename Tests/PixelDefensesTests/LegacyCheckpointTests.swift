import Foundation
import Testing
import PixelNN
import PixelTensor
import _TestSupport
@testable import PixelDefenses

/// `Fixtures/legacy_defended.safetensors` was written by the tool before layer kinds became
/// open (random resize-and-pad in front of a chained switch over two PRMs, trained one epoch
/// from `legacy_defended_spec.json`); `legacy_defended_logits.npy` holds what that tool's
/// `evaluate --logits` computed for `legacy_defended_images.npy` in one batch after a fresh load.
@Suite("Checkpoints written before the architecture step")
struct LegacyCheckpointTests {
  static func fixture(_ name: String) -> URL {
    Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")!
  }

  @Test("a defended checkpoint still loads and computes the same logits")
  func sameLogits() throws {
    let (model, metadata) = try Checkpoint.load(from: Self.fixture("legacy_defended.safetensors"), builder: .withDefenses)
    #expect(model.isRandomized)
    let images = try NumPy.read(from: Self.fixture("legacy_defended_images.npy"))
    let expected = try NumPy.read(from: Self.fixture("legacy_defended_logits.npy"))
    let logits = withoutGradients { model.logits(images) }
    #expect(relativeError(logits, expected) < 1e-5)
    // The spec re-encodes to the very bytes the old tool wrote.
    #expect(model.spec.jsonString() == metadata[Checkpoint.modelKey])
  }

  @Test("without the defense kinds the checkpoint is refused with the file and the unknown type named")
  func unknownKind() {
    let url = Self.fixture("legacy_defended.safetensors")
    do {
      _ = try Checkpoint.load(from: url)
      Issue.record("a builder without the defense kinds built a switch")
    } catch let e as ModelSpecError {
      #expect(e.description.hasPrefix(url.path))
      #expect(e.description.contains("unknown layer type 'random_resize_pad'"), "\(e)")
    } catch {
      Issue.record("unexpected error \(error)")
    }
  }
}
