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
    subcommands: [TrainCommand.self, EvaluateCommand.self, ImportCommand.self, GradientMapCommand.self,
                  MergeMapsCommand.self, AttackCommand.self, MaskedSweepCommand.self, PRMCommand.self, BenchCommand.self])

  public init() {}
}
