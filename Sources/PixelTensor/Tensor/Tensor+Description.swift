extension Tensor: CustomStringConvertible {
  /// The shape and up to eight leading values, e.g. `Tensor[2, 3](0.1, 0.2, …)`.
  public var description: String {
    let shown = scalars.prefix(8).map { String($0) }.joined(separator: ", ")
    let more = elementCount > 8 ? ", …" : ""
    return "Tensor\(shape)(\(shown)\(more))\(requiresGradient ? " requiresGradient" : "")"
  }
}
