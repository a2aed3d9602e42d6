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
