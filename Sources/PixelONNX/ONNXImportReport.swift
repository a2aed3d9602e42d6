import Foundation

/// What an ONNX import found: the operators, the input, the batch axis, batch norm, the
/// normalisation front end, and every change the translation made (e.g. a removed Softmax).
public struct ONNXImportReport: Codable, Equatable, Sendable {
  public var file: String
  /// The exporter named in the file, e.g. `pytorch 2.15.0`.
  public var producer = ""
  /// The standard-domain opset.
  public var opset = 0
  /// `[C, H, W]` (or `[F]`) of one example.
  public var input: [Int]
  public var classes = 0
  /// `dynamic`, or the static batch extent of the file and whether a Reshape baked it in.
  public var batch: String
  /// ONNX operator → node count.
  public var operators: [String: Int] = [:]
  /// BatchNormalization nodes in inference form and in training form (three outputs).
  public var batchNormInference = 0
  public var batchNormTraining = 0
  /// The per-channel mean and standard deviation of a Sub/Div front end on the input, if found.
  public var normalizationMean: [Float]?
  public var normalizationStd: [Float]?
  public var parameters = 0
  /// Nodes of the translated graph.
  public var graphNodes = 0
  public var notes: [String] = []

  public init(file: String, input: [Int], batch: String) {
    self.file = file
    self.input = input
    self.batch = batch
  }

  /// Whether batch norm is present as its own nodes; when it is not, an eval export folded it
  /// into the convolutions (exact for inference and input gradients, but training the import
  /// then has no batch statistics to update) or the network has none.
  public var batchNormSummary: String {
    switch (batchNormInference, batchNormTraining) {
    case (0, 0): return "none in the file (folded into the convolutions by an eval export, or the network has none)"
    case (let e, 0): return "\(e) nodes in inference form (running statistics; training mode uses batch statistics)"
    case (0, let t): return "\(t) nodes in training form (batch statistics)"
    case let (e, t): return "\(e) nodes in inference form and \(t) in training form"
    }
  }

  /// The report as Markdown.
  public func markdown() -> String {
    var lines = ["# ONNX import: \(file)", "", "| | |", "|---|---|",
                 "| producer | \(producer.isEmpty ? "not named" : producer) |", "| opset | \(opset) |",
                 "| input (one example) | \(input.map(String.init).joined(separator: "×")) |", "| classes | \(classes) |",
                 "| batch axis | \(batch) |", "| batch norm | \(batchNormSummary) |",
                 "| normalisation front end | \(normalizationSummary) |",
                 "| parameters | \(parameters) |", "| graph nodes after translation | \(graphNodes) |", "",
                 "| operator | nodes |", "|---|---|"]
    lines += operators.sorted { $0.key < $1.key }.map { "| \($0.key) | \($0.value) |" }
    if !notes.isEmpty { lines += ["", "Notes:"] + notes.map { "- \($0)" } }
    return lines.joined(separator: "\n") + "\n"
  }

  var normalizationSummary: String {
    guard let m = normalizationMean, let s = normalizationStd else { return "none found" }
    func list(_ v: [Float]) -> String { "[" + v.map { String(format: "%.4f", $0) }.joined(separator: ", ") + "]" }
    return "mean \(list(m)), std \(list(s))"
  }
}
