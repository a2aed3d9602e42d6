import Foundation
import Testing

/// The manifest declares, for every target, exactly the modules its files import: a missing
/// declaration builds only by accident of build order, an extra one hides a dependency arrow
/// that the layering does not have.
@Suite("Package manifest")
struct PackageManifestTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  /// Modules of the toolchain, not targets of ours.
  static let system: Set<String> = ["Foundation", "FoundationEssentials", "Testing", "Glibc", "Dispatch", "Synchronization", "XCTest"]

  /// Target name → declared dependencies, read from Package.swift.
  static func declared() throws -> [String: Set<String>] {
    let text = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
    var out: [String: Set<String>] = [:]
    let target = try Regex(#"\.(?:target|testTarget|executableTarget)\(name: "([A-Za-z_]+)"(?:, dependencies: \[([^\]]*)\])?"#)
    let product = try Regex(#"\.product\(name: "([A-Za-z]+)""#)
    let plain = try Regex(#""([A-Za-z_]+)""#)
    for match in text.matches(of: target) {
      let name = String(match.output[1].substring!)
      var deps = String(match.output[2].substring ?? "")
      var set = Set(deps.matches(of: product).map { String($0.output[1].substring!) })
      deps = deps.replacing(product, with: "")
      deps = deps.replacing(try Regex(#"package: "[^"]*"\)"#), with: "")
      set.formUnion(deps.matches(of: plain).map { String($0.output[1].substring!) })
      out[name] = set
    }
    return out
  }

  /// Modules imported by the Swift files of `folder`.
  static func imports(_ folder: URL) throws -> Set<String> {
    let pattern = try Regex(#"(?m)^(?:@testable )?import ([A-Za-z_]+)"#)
    var out = Set<String>()
    let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?
      .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
    for f in files {
      let text = try String(contentsOf: f, encoding: .utf8)
      out.formUnion(text.matches(of: pattern).map { String($0.output[1].substring!) })
    }
    return out.subtracting(system)
  }

  @Test("every target declares exactly the modules it imports")
  func dependenciesMatchImports() throws {
    let targets = try Self.declared()
    #expect(targets.count >= 20, "read only \(targets.count) targets from Package.swift")
    for (name, declared) in targets {
      let sources = Self.root.appendingPathComponent("Sources").appendingPathComponent(name)
      let folder = FileManager.default.fileExists(atPath: sources.path)
        ? sources : Self.root.appendingPathComponent("Tests").appendingPathComponent(name)
      // A C target (CMPIShim) reaches its system library through #include, not import.
      let swiftFiles = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?
        .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
      if swiftFiles.isEmpty && FileManager.default.fileExists(atPath: folder.appendingPathComponent("include").path) { continue }
      let used = try Self.imports(folder)
      #expect(used.subtracting(declared).isEmpty, "\(name) imports \(used.subtracting(declared).sorted()) without declaring them")
      #expect(declared.subtracting(used).isEmpty, "\(name) declares \(declared.subtracting(used).sorted()) it never imports")
    }
  }

  @Test("PixelNN imports nothing above it and names no defense")
  func layering() throws {
    let nn = Self.root.appendingPathComponent("Sources/PixelNN")
    #expect(try Self.imports(nn) == ["PixelTensor"])
    let files = FileManager.default.enumerator(at: nn, includingPropertiesForKeys: nil)?
      .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" } ?? []
    for f in files {
      let text = try String(contentsOf: f, encoding: .utf8)
      for name in ["PRM", "Switching", "RandomResizePad", "PixelMask", "DesignatedPixels"] {
        #expect(!text.contains(name), "\(f.lastPathComponent) names \(name)")
      }
    }
  }
}
