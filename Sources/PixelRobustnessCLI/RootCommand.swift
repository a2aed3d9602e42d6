import Foundation
import Glibc
import ArgumentParser

/// The version `pixelrobust --version` prints.
public let pixelrobustVersion = "0.2.0"

/// The `pixelrobust` command-line tool.
public struct PixelRobustCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "pixelrobust",
    abstract: "Per-pixel robustness of image classifiers: gradient heatmaps, masked attacks, PRM defenses.",
    discussion: """
      Images are NCHW floats in [0, 1]; every epsilon is in those pixel units.
      On CPUs with AVX-512 the tool selects OpenBLAS's SkylakeX kernels unless OPENBLAS_CORETYPE is set.
      """,
    version: pixelrobustVersion,
    subcommands: [TrainCommand.self, EvaluateCommand.self, ImportCommand.self, ForwardCommand.self, GradientMapCommand.self,
                  MergeCommand.self, SlurmCommand.self, AttackCommand.self, TransferCommand.self, SaliencyGridCommand.self, MaskedSweepCommand.self, CurvesCommand.self, PRMCommand.self, SmoothCommand.self, DefenseTableCommand.self,
                  BenchCommand.self])

  public init() {}

  /// Parses the command line and runs the command like `main()`, then exits non-zero if the
  /// results could not be written to standard output (a closed or full stdout): a report that
  /// did not arrive must not look like success.
  public static func mainReportingOutputFailures() -> Never {
    var failure: (any Error)?
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch {
      failure = error
    }
    // NOTE: fflush(nil) flushes every output stream without naming the global `stdout`.
    if fflush(nil) != 0 {
      Console.note("pixelrobust: the results could not be written to standard output")
      Glibc.exit(failure == nil ? 1 : exitCode(for: failure!).rawValue)
    }
    if let failure { exit(withError: failure) }
    Glibc.exit(0)
  }
}
