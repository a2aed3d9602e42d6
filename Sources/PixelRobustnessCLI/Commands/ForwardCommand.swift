import ArgumentParser
import Foundation
import PixelNN
import PixelTensor

extension PixelRobustCommand {
  /// `pixelrobust forward`: logits and per-example input gradients of one batch from a .npy file.
  struct ForwardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "forward",
      abstract: "Logits and per-example input gradients ∂CE(f(x_n), y_n)/∂x_n of a batch given as .npy: for parity checks.",
      discussion: """
        Reads images [N, C, H, W] (float, pixels in [0, 1]) and labels [N] (class indices, any numeric dtype), \
        runs the model once in inference mode (or --training: batch norm on batch statistics, dropout active) \
        and writes the logits [N, K] and the gradients [N, C, H, W] as float32 .npy files, e.g. to compare an \
        imported ONNX model with PyTorch (scripts/export_onnx_models.py writes such references).
        """)

    @Option(help: ArgumentHelp(SharedHelp.checkpoint))
    var model: String
    @Option(help: "Images as .npy, shape [N] + the model's input shape.")
    var images: String
    @Option(help: "Labels as .npy, shape [N], integral values in 0..<classes.")
    var labels: String
    @Option(help: "Output: logits [N, classes] as .npy.")
    var logits: String
    @Option(help: "Output: per-example input gradients of the cross-entropy as .npy.")
    var inputGradients: String?
    @Flag(help: "Run in training mode (batch statistics, dropout) instead of inference mode.")
    var training = false

    func run() throws {
      try OutputCheck(files: [logits] + (inputGradients.map { [$0] } ?? []), inputs: [model, images, labels]).run()
      let (net, _) = try loadCheckpoint(model)
      let x = try NumPy.read(from: URL(cliPath: images))
      guard x.rank == net.spec.input.count + 1, Array(x.shape.dims.dropFirst()) == net.spec.input, x.shape[0] > 0 else {
        throw ValidationError("\(images) has shape \(x.shape.dims), the model expects [N] + \(net.spec.input)")
      }
      let y = try NumPy.read(from: URL(cliPath: labels)).scalars
      guard y.count == x.shape[0], y.allSatisfy({ $0 == $0.rounded() && $0 >= 0 && $0 < Float(net.spec.classes) }) else {
        throw ValidationError("\(labels) must hold \(x.shape[0]) class indices in 0..<\(net.spec.classes)")
      }
      let classes = y.map { Int($0) }
      // One forward pass gives both outputs, so dropout's draws in training mode are the same for them.
      let leaf = x.requiringGradient()
      let (out, g) = net.withMode(training ? .training : .inference) {
        withGradients { () -> (Tensor, Tensor?) in
          let out = net(leaf)
          guard inputGradients != nil else { return (out.detached(), nil) }
          let loss = crossEntropy(logits: out, labels: classes, reduction: .sum)
          return (out.detached(), PixelTensor.gradients(of: loss, wrt: [leaf])[0])
        }
      }
      try NumPy.write(out, to: URL(cliPath: logits))
      if let inputGradients, let g { try NumPy.write(g, to: URL(cliPath: inputGradients)) }
      print("wrote \(logits)" + (inputGradients.map { " and \($0)" } ?? "") + " for \(classes.count) examples")
    }
  }
}
