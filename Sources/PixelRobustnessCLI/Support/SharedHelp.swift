import ArgumentParser

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
