import ArgumentParser
import Foundation
import PixelAnalysis
import PixelDefenses

extension PixelRobustCommand {
  /// `pixelrobust curves`: accuracy-versus-ε curves of several attack reports on one plot per norm.
  struct CurvesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "curves",
      abstract: "Plot accuracy against ε from attack reports (attack --json) and certificates (smooth certify's summary.json): curves_<norm>.png, curves.csv.",
      discussion: """
        Minimal attacks contribute the curve their per-example sizes imply, bounded attacks their \
        robust accuracy at each ε they ran at, certification its certified accuracy at each L2 \
        radius. Curves are named LABEL: attack (labels default to the report file names, or their \
        folder's for summary.json), one plot per norm.
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
      let names = labels?.values ?? reports.values.map { path in
        let url = URL(cliPath: path)
        return url.lastPathComponent == "summary.json" ? url.deletingLastPathComponent().lastPathComponent
          : url.deletingPathExtension().lastPathComponent
      }
      let curves = try zip(reports.values, names).flatMap { path, name in
        try CertificationRun.curves(in: URL(cliPath: path), label: name) ?? AttackCurves.curves(in: URL(cliPath: path), label: name)
      }
      let files = try AttackCurves.write(curves, title: title, identity: ["reports": reports.values.joined(separator: ",")],
                                         to: URL(cliPath: output))
      print("wrote " + files.joined(separator: ", ") + " (\(curves.count) curves) to \(output)")
    }
  }
}
