/// The geometry of a 2-D sliding window over an NCHW batch, shared by `im2col`, `col2im`,
/// convolution and pooling.
///
/// Output extents follow PyTorch:
/// `out = ⌊(in + 2·padding − dilation·(kernel − 1) − 1) / stride⌋ + 1`.
public struct ConvGeometry: Hashable, Sendable {
  public var batch: Int, channels: Int, height: Int, width: Int
  public var kernelHeight: Int, kernelWidth: Int
  public var strideY: Int, strideX: Int
  public var paddingY: Int, paddingX: Int
  public var dilationY: Int, dilationX: Int

  /// Describes a window of `kernel` over an input of shape `[N, C, H, W]`.
  public init(input: Shape, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
              padding: (Int, Int) = (0, 0), dilation: (Int, Int) = (1, 1)) {
    precondition(input.rank == 4, "expected an NCHW input, got shape \(input)")
    precondition(kernel.0 > 0 && kernel.1 > 0 && stride.0 > 0 && stride.1 > 0
                 && dilation.0 > 0 && dilation.1 > 0 && padding.0 >= 0 && padding.1 >= 0,
                 "invalid window: kernel \(kernel), stride \(stride), padding \(padding)")
    batch = input[0]; channels = input[1]; height = input[2]; width = input[3]
    (kernelHeight, kernelWidth) = kernel
    (strideY, strideX) = stride
    (paddingY, paddingX) = padding
    (dilationY, dilationX) = dilation
    precondition(outHeight > 0 && outWidth > 0,
                 "window \(kernel) (padding \(padding), dilation \(dilation)) does not fit input \(input)")
  }

  /// Output height.
  public var outHeight: Int {
    (height + 2 * paddingY - dilationY * (kernelHeight - 1) - 1) / strideY + 1
  }
  /// Output width.
  public var outWidth: Int {
    (width + 2 * paddingX - dilationX * (kernelWidth - 1) - 1) / strideX + 1
  }
  /// Elements in one patch: `C·kh·kw`.
  public var patchSize: Int { channels * kernelHeight * kernelWidth }
  /// Patches in the batch: `N·oh·ow`.
  public var patchCount: Int { batch * outHeight * outWidth }
  /// The input shape `[N, C, H, W]`.
  public var inputShape: Shape { [batch, channels, height, width] }
  /// The `im2col` shape `[C·kh·kw, N·oh·ow]`.
  public var columnShape: Shape { [patchSize, patchCount] }
}
