import Foundation
import PixelImaging
import PixelTensor

/// A folder of PNG images with one subfolder per class (`root/<class>/*.png`, classes in
/// sorted order). If `root/train` and `root/test` exist they hold the splits.
public enum ImageFolder {
  /// Loads every PNG; gray, RGB and RGBA are converted to `channels` (1 or 3; `nil`: 1 when
  /// every image is gray, else 3). All images must share one size.
  public static func dataset(root: URL, split: Split, channels: Int? = nil) throws -> Dataset {
    let fm = FileManager.default
    var isDirectory: ObjCBool = false
    guard fm.fileExists(atPath: root.path, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw DataError.missing(path: root.path, what: "image folder")
    }
    let splitFolder = root.appendingPathComponent(split.rawValue)
    let base = fm.fileExists(atPath: splitFolder.path) ? splitFolder : root
    let classes = try fm.contentsOfDirectory(atPath: base.path).filter { name in
      var dir: ObjCBool = false
      return !name.hasPrefix(".") && fm.fileExists(atPath: base.appendingPathComponent(name).path, isDirectory: &dir) && dir.boolValue
    }.sorted()
    guard !classes.isEmpty else { throw DataError.empty(path: base.path, reason: "no class subfolders") }

    var images: [(URL, Image, Int)] = []
    for (label, cls) in classes.enumerated() {
      let folder = base.appendingPathComponent(cls)
      let files = try fm.contentsOfDirectory(atPath: folder.path).filter { $0.lowercased().hasSuffix(".png") }.sorted()
      for f in files {
        let url = folder.appendingPathComponent(f)
        do { images.append((url, try PNG.read(from: url), label)) } catch let e as PNGError {
          throw DataError.unreadableImage(path: url.path, reason: e.description)
        }
      }
    }
    guard let first = images.first else { throw DataError.empty(path: base.path, reason: "no PNG images in the class folders") }
    if let odd = images.first(where: { $0.1.width != first.1.width || $0.1.height != first.1.height }) {
      throw DataError.mixedSizes(path: base.path, detail: "\(first.0.lastPathComponent) is \(first.1.width)×\(first.1.height), "
                                 + "\(odd.0.path) is \(odd.1.width)×\(odd.1.height)")
    }
    let c = channels ?? (images.allSatisfy { $0.1.channels <= 2 } ? 1 : 3)
    var values: [Float] = []
    values.reserveCapacity(images.count * c * first.1.width * first.1.height)
    for (_, image, _) in images { values += image.planes(channels: c) }
    return Dataset(name: "folder:\(base.path)", images: Tensor(values, shape: [images.count, c, first.1.height, first.1.width]),
                   labels: images.map(\.2), classNames: classes)
  }
}
