import Testing
import PixelTensor
import _TestSupport

/// One op of `ops.safetensors`: its inputs are `<name>.in0…`, and the fixture holds the
/// output and `d(Σ out ⊙ cotangent)/d(in_i)`.
struct ReferenceOp: Sendable, CustomTestStringConvertible {
  let name: String
  let inputCount: Int
  let apply: @Sendable ([Tensor]) -> Tensor
  var testDescription: String { name }

  static let all: [ReferenceOp] = [
    .init(name: "conv_s2_p1", inputCount: 3) { conv2D($0[0], weight: $0[1], bias: $0[2], stride: 2, padding: 1) },
    .init(name: "conv_s1_p0", inputCount: 3) { conv2D($0[0], weight: $0[1], bias: $0[2]) },
    .init(name: "conv_5x5_p2", inputCount: 3) { conv2D($0[0], weight: $0[1], bias: $0[2], stride: 1, padding: 2) },
    .init(name: "conv1x1_s2", inputCount: 3) { conv2D($0[0], weight: $0[1], bias: $0[2], stride: 2) },
    .init(name: "conv_transpose_s2", inputCount: 3) {
      convTranspose2D($0[0], weight: $0[1], bias: $0[2], stride: (2, 2), padding: (1, 1), outputPadding: (1, 1))
    },
    .init(name: "maxpool_k2", inputCount: 1) { maxPool2D($0[0], kernel: 2) },
    .init(name: "maxpool_k3_s2_p1", inputCount: 1) { maxPool2D($0[0], kernel: 3, stride: 2, padding: 1) },
    .init(name: "avgpool_k2", inputCount: 1) { avgPool2D($0[0], kernel: 2) },
    .init(name: "global_avgpool", inputCount: 1) { globalAvgPool2D($0[0]) },
    .init(name: "linear", inputCount: 3) { linear($0[0], weight: $0[1], bias: $0[2]) },
    .init(name: "relu", inputCount: 1) { $0[0].relu() },
    .init(name: "softplus", inputCount: 1) { $0[0].softplus() },
    .init(name: "tanh", inputCount: 1) { $0[0].tanh() },
    .init(name: "sigmoid", inputCount: 1) { $0[0].sigmoid() },
    .init(name: "log_softmax", inputCount: 1) { $0[0].logSoftmax(alongAxis: 1) },
    .init(name: "cross_entropy", inputCount: 1) {
      crossEntropy(logits: $0[0], labels: Fixtures.ops["cross_entropy.labels"].scalars.map { Int($0) })
    },
    .init(name: "batchnorm_train", inputCount: 3) { x in
      let (m, v) = batchStatistics(x[0])
      return batchNorm(x[0], mean: m, variance: v, weight: x[1], bias: x[2])
    },
    .init(name: "batchnorm_eval", inputCount: 3) {
      batchNorm($0[0], mean: Fixtures.ops["batchnorm_eval.running_mean"],
                variance: Fixtures.ops["batchnorm_eval.running_var"], weight: $0[1], bias: $0[2])
    },
  ]
}

@Suite("PyTorch reference fixtures: ops.safetensors")
struct ReferenceFixtureTests {
  @Test("output and input gradients match PyTorch to 1e-4", arguments: ReferenceOp.all)
  func matchesPyTorch(_ op: ReferenceOp) throws {
    let f = Fixtures.ops
    let inputs = (0..<op.inputCount).map { f["\(op.name).in\($0)"].requiringGradient() }
    let out = op.apply(inputs)
    let expected = f["\(op.name).out"]
    #expect(out.shape == expected.shape)
    #expect(relativeError(out, expected) <= 1e-4, "\(op.name) output")
    let grads = vectorJacobianProducts(of: out, wrt: inputs, cotangent: f["\(op.name).cotangent"])
    for i in 0..<op.inputCount {
      let reference = f["\(op.name).grad\(i)"]
      #expect(grads[i].shape == reference.shape)
      #expect(relativeError(grads[i], reference) <= 1e-4, "\(op.name) grad\(i)")
    }
  }

  @Test("batch-norm running statistics follow PyTorch's update")
  func runningStatistics() {
    let f = Fixtures.ops
    let result = batchNormTraining(f["batchnorm_train.in0"], weight: f["batchnorm_train.in1"],
                                   bias: f["batchnorm_train.in2"], runningMean: .zeros([3]),
                                   runningVariance: .ones([3]), momentum: 0.1)
    #expect(relativeError(result.runningMean, f["batchnorm_train.running_mean_after"]) <= 1e-4)
    #expect(relativeError(result.runningVariance, f["batchnorm_train.running_var_after"]) <= 1e-4)
    #expect(relativeError(result.output, f["batchnorm_train.out"]) <= 1e-4)
  }
}
