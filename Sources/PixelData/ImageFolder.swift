import Foundation
import PixelImaging
import PixelTensor

/// A folder of PNG and JPEG images with one subfolder per class (`root/<class>/*.png|jpg|jpeg`,
/// classes in sorted order). If `root/train` and `root/test` exist they hold the splits.
public enum ImageFolder {
  /// ImageNet-style preprocessing, as torchvision's `Resize(resize)` then `CenterCrop(centerCrop)`
  /// on PIL images (Pillow's antialiased bilinear filter, byte for byte).
  public struct Preprocessing: Sendable, Equatable {
    /// The shorter side's length after resizing, if any.
    public var resize: Int?
    /// The side of the square centre crop, if any.
    public var centerCrop: Int?

    public init(resize: Int? = nil, centerCrop: Int? = nil) {
      self.resize = resize
      self.centerCrop = centerCrop
    }

    /// How the data set's name records it, e.g. ` (resize 256, crop 224)`.
    var label: String {
      let parts = [resize.map { "resize \($0)" }, centerCrop.map { "crop \($0)" }].compactMap { $0 }
      return parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))"
    }

    func apply(_ image: Image, path: String) throws -> Image {
      var out = image
      if let resize { out = out.resizedShorterSide(to: resize) }
      if let c = centerCrop {
        guard c <= out.width, c <= out.height else {
          throw DataError.unreadableImage(path: path, reason: "a \(c)×\(c) centre crop does not fit its \(out.width)×\(out.height) size"
                                          + (resize == nil ? " (give --resize)" : ""))
        }
        out = out.centerCropped(width: c, height: c)
      }
      return out
    }
  }

  /// The image file extensions read (lower case).
  public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

  /// Loads every PNG and JPEG, preprocessed; gray, RGB and RGBA are converted to `channels`
  /// (1 or 3; `nil`: 1 when every image is gray, else 3). All images must then share one size.
  public static func dataset(root: URL, split: Split, channels: Int? = nil, preprocessing: Preprocessing = .init()) throws -> Dataset {
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
      let files = try fm.contentsOfDirectory(atPath: folder.path)
        .filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
      for f in files {
        let url = folder.appendingPathComponent(f)
        let image: Image
        do {
          image = url.pathExtension.lowercased() == "png" ? try PNG.read(from: url) : try JPEG.read(from: url)
        } catch let e as PNGError {
          throw DataError.unreadableImage(path: url.path, reason: e.description)
        } catch let e as JPEGError {
          throw DataError.unreadableImage(path: url.path, reason: e.description)
        }
        images.append((url, try preprocessing.apply(image, path: url.path), label))
      }
    }
    guard let first = images.first else { throw DataError.empty(path: base.path, reason: "no PNG or JPEG images in the class folders") }
    if let odd = images.first(where: { $0.1.width != first.1.width || $0.1.height != first.1.height }) {
      throw DataError.mixedSizes(path: base.path, detail: "\(first.0.lastPathComponent) is \(first.1.width)×\(first.1.height), "
                                 + "\(odd.0.path) is \(odd.1.width)×\(odd.1.height)"
                                 + (preprocessing.centerCrop == nil ? "; give --resize S --center-crop C" : ""))
    }
    let c = channels ?? (images.allSatisfy { $0.1.channels <= 2 } ? 1 : 3)
    var values: [Float] = []
    values.reserveCapacity(images.count * c * first.1.width * first.1.height)
    for (_, image, _) in images { values += image.planes(channels: c) }
    return Dataset(name: "folder:\(base.path)\(preprocessing.label)", images: Tensor(values, shape: [images.count, c, first.1.height, first.1.width]),
                   labels: images.map(\.2), classNames: classes)
  }
}
