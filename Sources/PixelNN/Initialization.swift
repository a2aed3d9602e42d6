import PixelTensor

/// PyTorch's default initialisation for linear and convolution layers: weights and biases
/// uniform in `±1/√fanIn` (`kaiming_uniform_(a=√5)` and its bias rule), so freshly built
/// models train like their PyTorch twins.
enum Initialization {
  static func uniformFanIn(_ shape: Shape, fanIn: Int, using rng: inout some RandomNumberGenerator) -> Tensor {
    let bound = 1 / Float(Swift.max(fanIn, 1)).squareRoot()
    return Tensor.uniform(shape, in: -bound...bound, using: &rng)
  }
}
