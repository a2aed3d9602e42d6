extension Float {
  /// The `Double` with this value's shortest decimal spelling (0.1, not 0.10000000149011612), so
  /// that reports write settings such as ε and λ as they were typed.
  public var decimal: Double { Double("\(self)") ?? Double(self) }
}
