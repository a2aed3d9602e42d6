/// A ReLU, optionally after a sum, that a convolution applies to its output as it writes it:
/// `v = y + adding`, `y = v > 0 ? v : +0`, `mask = v > 0`, over NCHW buffers of the output's
/// shape. The direct kernels apply it to each block of channels while that block is in cache;
/// the im2col route to each chunk of samples. Either way, the bits of the separate sum and ReLU.
struct Rectifier: @unchecked Sendable {
  /// The summand of the output's shape, or `nil` for a plain ReLU.
  var adding: UnsafePointer<Float>?
  /// Receives the ReLU's mask (1 where `v > 0`) when not `nil`.
  var mask: UnsafeMutablePointer<UInt8>?

  /// Applies the rectifier to `samples` of `y`, `image` floats each, in place.
  func apply(_ y: UnsafeMutablePointer<Float>, samples: Range<Int>, image: Int) {
    let start = y + samples.lowerBound * image, count = samples.count * image
    let summand = adding.map { $0 + samples.lowerBound * image }
    if let mask {
      Elementwise.relu(start, adding: summand, mask: mask + samples.lowerBound * image, start, count: count, parallel: false)
    } else {
      Elementwise.relu(start, adding: summand, start, count: count, parallel: false)
    }
  }
}
