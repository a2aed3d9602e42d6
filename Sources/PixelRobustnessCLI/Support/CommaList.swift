import ArgumentParser

/// A comma-separated list on the command line, parsed strictly: every item must parse and no
/// item may be empty, so `0.1,,0.2` or `256,abc` is an error instead of a shorter list.
struct CommaList<Element: ExpressibleByArgument & CustomStringConvertible>: ExpressibleByArgument, CustomStringConvertible {
  var values: [Element]

  init(_ values: [Element]) { self.values = values }

  init?(argument: String) {
    var out: [Element] = []
    for part in argument.split(separator: ",", omittingEmptySubsequences: false) {
      let item = part.trimmingCharacters(in: .whitespaces)
      guard !item.isEmpty, let value = Element(argument: item) else { return nil }
      out.append(value)
    }
    guard !out.isEmpty else { return nil }
    values = out
  }

  var description: String { values.map(\.description).joined(separator: ",") }
  var defaultValueDescription: String { description }
}

/// Help texts shared by every command that has the option, so one name has one meaning.
enum SharedHelp {
  static let batchSize = "Images per batch (memory grows with it)."
  static let checkpoint = "Model checkpoint (.safetensors) written by train, import or prm."
  static let data = "Data set: fashion-mnist | idx:DIR | cifar10:DIR | cifar100:DIR | folder:DIR."
}

/// `values` if every one is finite, else a validation error naming `option`.
func requireFinite(_ values: [Float], _ option: String) throws {
  if let bad = values.first(where: { !$0.isFinite }) { throw ValidationError("\(option) must be finite, got \(bad).") }
}

/// Results that were computed but are not meaningful (NaN or ±∞): reported, then the command
/// exits non-zero so that scripts notice.
struct NonFiniteResults: Error, CustomStringConvertible {
  let description: String
}
