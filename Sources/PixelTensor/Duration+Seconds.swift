extension Duration {
  /// The duration in seconds, for rates (images/s) and reports.
  public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
