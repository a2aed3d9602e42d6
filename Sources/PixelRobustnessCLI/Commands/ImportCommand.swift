import ArgumentParser
import Foundation
import PixelNN
import PixelONNX
import PixelTensor

extension PixelRobustCommand {
  /// `pixelrobust import`: an ONNX classifier, or a PyTorch state dict plus a model spec, become a checkpoint.
  struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "import",
      abstract: "Import a classifier: an ONNX file (torch.onnx.export), or PyTorch weights through a model spec.",
      discussion: """
        --onnx: the graph is translated into the engine (opset ≤ 23: Conv, Gemm, BatchNormalization, pooling, \
        Add, Concat, Clip, Reshape and their neighbours; anything else is refused naming the node), weights \
        become parameters (so the import trains, attacks and checkpoints like any model), external data is \
        read only from inside the model's folder, and a report lists the operators, the input, the batch axis, \
        batch norm and the normalisation front end. --input-range maps our [0, 1] pixels to the range the \
        model was trained on.

        --spec --weights: strict; every missing key, unexpected key and shape mismatch is listed. F64, F16 and \
        BF16 weights are converted to F32; batch norm's num_batches_tracked is ignored. Layouts are PyTorch's \
        (conv OIHW, linear [out, in], conv-transpose [in, out, kh, kw]).
        """)

    @Option(help: "ONNX model file (its external data, if any, beside it).")
    var onnx: String?
    @Option(help: "ONNX: the pixel range the model expects, as LO,HI (ours are [0, 1]). (default: 0,1)")
    var inputRange: CommaList<Float>?
    @Option(help: "ONNX: per-example input shape C,H,W when the file leaves it symbolic.")
    var inputShape: CommaList<Int>?
    @Option(help: "ONNX: also write the import report as JSON here.")
    var json: String?
    @Option(help: "Model spec JSON (format pixelrobust-model/1), with --weights.")
    var spec: String?
    @Option(help: "PyTorch state_dict saved with safetensors.torch.save_file, with --spec.")
    var weights: String?
    @Option(help: "Output checkpoint (.safetensors).")
    var output: String

    func validate() throws {
      guard (onnx == nil) != (spec == nil && weights == nil) else {
        throw ValidationError("give either --onnx FILE or both --spec and --weights.")
      }
      if onnx == nil {
        guard spec != nil, weights != nil else { throw ValidationError("--spec and --weights go together.") }
        guard inputRange == nil, inputShape == nil, json == nil else {
          throw ValidationError("--input-range, --input-shape and --json apply to --onnx only.")
        }
      }
      if let r = inputRange?.values {
        guard r.count == 2, r.allSatisfy(\.isFinite), r[0] < r[1] else { throw ValidationError("--input-range takes LO,HI with LO < HI.") }
      }
      if let s = inputShape?.values {
        guard (1...3).contains(s.count), s.allSatisfy({ (1...LayerBuildContext.maximumExtent).contains($0) }) else {
          throw ValidationError("--input-shape takes 1 to 3 extents in 1...\(LayerBuildContext.maximumExtent).")
        }
      }
    }

    func run() throws {
      if let onnx {
        try OutputCheck(files: [output] + (json.map { [$0] } ?? []), inputs: [onnx]).run()
        let range = inputRange.map { $0.values[0]...$0.values[1] } ?? 0...1
        let (model, report) = try ONNXImporter.read(URL(cliPath: onnx),
                                                    options: ONNXImportOptions(inputRange: range, inputShape: inputShape?.values))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let reportJSON = try encoder.encode(report)
        try Checkpoint.save(model, to: URL(cliPath: output),
                            metadata: ["pixelrobust.imported_from": onnx,
                                       "pixelrobust.onnx_report": String(decoding: reportJSON, as: UTF8.self)])
        if let json { try AtomicFile.write(reportJSON, to: URL(cliPath: json)) }
        print(report.markdown())
        print("wrote \(output): \(model.parameterCount) weights")
        return
      }
      guard let spec, let weights else { return }
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
