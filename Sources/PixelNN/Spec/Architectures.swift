/// The built-in architectures, each a ``ModelSpec`` for any input size, channel count and class count.
public enum Architecture: String, CaseIterable, Sendable {
  /// Flatten → (linear → ReLU) per hidden width → linear.
  case mlp
  /// conv 3×3 →32 → ReLU → max-pool 2 → conv 3×3 →64 → ReLU → max-pool 2 → flatten (CHW) →
  /// linear →128 → ReLU → linear; no padding. Layer for layer PyTorch's
  /// `Conv2d(1,32,3), ReLU, MaxPool2d(2), Conv2d(32,64,3), ReLU, MaxPool2d(2), Flatten, Linear(1600,128), ReLU, Linear(128,10)`.
  case smallCNN = "small-cnn"
  /// Ross & Doshi-Velez (2018): conv 5×5 →32 (padding 2) → ReLU → max-pool 2 → conv 5×5 →64
  /// (padding 2) → ReLU → max-pool 2 → linear 1024 → ReLU → dropout 0.5 → linear.
  case rossCNN = "ross-cnn"
  /// He et al.'s CIFAR ResNet-20: 3×3 conv 16, three stages of three basic blocks (16, 32, 64
  /// channels, stride 2 between stages, 1×1 projection shortcuts), global average pool, linear.
  case resnet20
  /// A wide ResNet (Zagoruyko & Komodakis, 2016) of depth `6n + 4` and widening factor `k`:
  /// stages of 16k, 32k and 64k channels with post-activation basic blocks.
  case wideResNet = "wide-resnet"

  /// The spec for `input` `[C, H, W]` and `classes`; `depth`/`width` apply to `wide-resnet`
  /// (defaults WRN-16-4) and `hidden` to `mlp`.
  public func spec(input: [Int], classes: Int, hidden: [Int] = [256, 256], depth: Int = 16,
                   width: Int = 4) -> ModelSpec {
    switch self {
    case .mlp:
      var layers = [LayerSpec(type: "flatten")]
      for (i, h) in hidden.enumerated() {
        layers += [LayerSpec(type: "linear", name: "fc\(i + 1)", out: h), LayerSpec(type: "relu")]
      }
      layers.append(LayerSpec(type: "linear", name: "fc\(hidden.count + 1)", out: classes))
      return ModelSpec(input: input, classes: classes, layers: layers)
    case .smallCNN:
      return ModelSpec(input: input, classes: classes, layers: [
        LayerSpec(type: "conv2d", name: "conv1", out: 32, kernel: 3), LayerSpec(type: "relu"),
        LayerSpec(type: "maxpool2d", kernel: 2),
        LayerSpec(type: "conv2d", name: "conv2", out: 64, kernel: 3), LayerSpec(type: "relu"),
        LayerSpec(type: "maxpool2d", kernel: 2),
        LayerSpec(type: "flatten"),
        LayerSpec(type: "linear", name: "fc1", out: 128), LayerSpec(type: "relu"),
        LayerSpec(type: "linear", name: "fc2", out: classes),
      ])
    case .rossCNN:
      return ModelSpec(input: input, classes: classes, layers: [
        LayerSpec(type: "conv2d", name: "conv1", out: 32, kernel: 5, padding: 2), LayerSpec(type: "relu"),
        LayerSpec(type: "maxpool2d", kernel: 2),
        LayerSpec(type: "conv2d", name: "conv2", out: 64, kernel: 5, padding: 2), LayerSpec(type: "relu"),
        LayerSpec(type: "maxpool2d", kernel: 2),
        LayerSpec(type: "flatten"),
        LayerSpec(type: "linear", name: "fc1", out: 1024), LayerSpec(type: "relu"),
        LayerSpec(type: "dropout", p: 0.5),
        LayerSpec(type: "linear", name: "fc2", out: classes),
      ])
    case .resnet20:
      return resNet(input: input, classes: classes, blocksPerStage: 3, widths: [16, 32, 64], stem: 16)
    case .wideResNet:
      precondition(depth >= 10 && (depth - 4) % 6 == 0, "wide-resnet depth must be 6n + 4")
      return resNet(input: input, classes: classes, blocksPerStage: (depth - 4) / 6,
                    widths: [16 * width, 32 * width, 64 * width], stem: 16)
    }
  }

  private func resNet(input: [Int], classes: Int, blocksPerStage: Int, widths: [Int], stem: Int) -> ModelSpec {
    var layers = [LayerSpec(type: "conv2d", name: "conv1", out: stem, kernel: 3, padding: 1, bias: false),
                  LayerSpec(type: "batchnorm2d", name: "bn1"), LayerSpec(type: "relu")]
    var channels = stem
    for (s, w) in widths.enumerated() {
      for b in 0..<blocksPerStage {
        let stride = (s > 0 && b == 0) ? 2 : 1
        let body = [
          LayerSpec(type: "conv2d", name: "conv1", out: w, kernel: 3, stride: stride, padding: 1, bias: false),
          LayerSpec(type: "batchnorm2d", name: "bn1"), LayerSpec(type: "relu"),
          LayerSpec(type: "conv2d", name: "conv2", out: w, kernel: 3, padding: 1, bias: false),
          LayerSpec(type: "batchnorm2d", name: "bn2"),
        ]
        let shortcut = (stride != 1 || channels != w)
          ? [LayerSpec(type: "conv2d", name: "shortcut_conv", out: w, kernel: 1, stride: stride, bias: false),
             LayerSpec(type: "batchnorm2d", name: "shortcut_bn")]
          : []
        layers.append(LayerSpec(type: "residual", name: "layer\(s + 1)_\(b)", body: body, shortcut: shortcut))
        layers.append(LayerSpec(type: "relu"))
        channels = w
      }
    }
    layers += [LayerSpec(type: "global_avgpool"), LayerSpec(type: "linear", name: "fc", out: classes)]
    return ModelSpec(input: input, classes: classes, layers: layers)
  }
}
