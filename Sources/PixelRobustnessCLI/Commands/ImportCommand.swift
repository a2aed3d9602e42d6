import ArgumentParser
import Foundation
import PixelNN

extension PixelRobustCommand {
  /// `pixelrobust import`: a PyTorch state dict plus a model spec become a checkpoint.
  struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import",
      abstract: "Import PyTorch weights (a state_dict saved as safetensors) through a model spec.",
      discussion: """
        Strict: every missing key, unexpected key and shape mismatch is listed. F64, F16 and BF16 weights \
        are converted to F32; batch norm's num_batches_tracked is ignored. Layouts are PyTorch's \
        (conv OIHW, linear [out, in], conv-transpose [in, out, kh, kw]).
        """)

    @Option(help: "Model spec JSON (format pixelrobust-model/1).")
    var spec: String
    @Option(help: "PyTorch state_dict saved with safetensors.torch.save_file.")
    var weights: String
    @Option(help: "Output checkpoint (.safetensors).")
    var output: String

    func run() throws {
      try OutputCheck(files: [output], inputs: [spec, weights]).run()
      let modelSpec = try ModelSpec.read(from: URL(cliPath: spec))
      let model = try Checkpoint.importWeights(spec: modelSpec, weights: URL(cliPath: weights), specSource: spec,
                                                 builder: modelBuilder)
      try Checkpoint.save(model, to: URL(cliPath: output), metadata: ["pixelrobust.imported_from": weights])
      print("imported \(model.namedParameters.count) parameters and \(model.namedBuffers.count) buffers "
            + "(\(model.parameterCount) weights) into \(output)")
    }
  }
}
