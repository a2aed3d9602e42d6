import ArgumentParser
import Foundation
import PixelAnalysis

extension PixelRobustCommand {
  /// `pixelrobust curves`: accuracy-versus-ε curves of several attack reports on one plot per norm.
  struct CurvesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "curves",
      abstract: "Plot accuracy against ε from attack reports (--json of pixelrobust attack): curves_<norm>.png and curves.csv.",
      discussion: """
        Minimal attacks contribute the curve their per-example sizes imply, bounded attacks their \
        robust accuracy at each ε they ran at. Curves are named LABEL: attack (labels default to \
        the report file names), one plot per norm.
        """)

    @Option(help: "Attack report JSON files, comma-separated.")
    var reports: CommaList<String>
    @Option(help: "A label per report, comma-separated (default: the file names).")
    var labels: CommaList<String>?
    @Option(help: "Plot title.")
    var title = "accuracy against ε"
    @Option(help: "Output folder.")
    var output: String

    func validate() throws {
      if let labels, labels.values.count != reports.values.count {
        throw ValidationError("--labels needs one label per report (\(reports.values.count)), got \(labels.values.count).")
      }
    }

    func run() throws {
      let check = OutputCheck(folders: [output], inputs: reports.values)
      try check.run()
      let names = labels?.values ?? reports.values.map { URL(cliPath: $0).deletingPathExtension().lastPathComponent }
      let curves = try zip(reports.values, names).flatMap { try AttackCurves.curves(in: URL(cliPath: $0), label: $1) }
      let files = try AttackCurves.write(curves, title: title, identity: ["reports": reports.values.joined(separator: ",")],
                                         to: URL(cliPath: output))
      print("wrote " + files.joined(separator: ", ") + " (\(curves.count) curves) to \(output)")
    }
  }
}
