import ArgumentParser
import Foundation
import PixelCluster
import PixelData

extension PixelRobustCommand {
  /// `pixelrobust slurm`: a sharded job as a Slurm job array plus a dependent merge job.
  struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "slurm",
      abstract: "Write (and with --submit, submit) a Slurm job array running a command in --shards parts, and a merge job after it.",
      discussion: """
        Example: pixelrobust slurm gradient-map --model m.safetensors --data cifar10:DATA --shards 8 --run runs/map. \
        Task i runs the command with --shard i/n --output RUN/shard-i; the merge job (sbatch \
        --dependency=afterok on the array) writes RUN/merged, the result one unsharded run writes. The \
        scripts go to RUN/slurm (shards.sbatch, merge.sbatch, submit.sh), the logs to RUN/logs. \
        Shardable commands: evaluate, gradient-map, attack, masked-sweep, transfer, \
        smooth predict, smooth certify, defense-table. \
        Kubernetes Indexed Jobs run the same way with --shard $JOB_COMPLETION_INDEX/n.
        """)

    @Option(help: "Number of shards (array tasks), 1...1000.")
    var shards: Int
    @Option(name: .customLong("run"), help: "Run folder: shard-<i>/, merged/, logs/ and slurm/ go there.")
    var runFolder: String
    @Option(help: "Slurm partition.")
    var partition: String?
    @Option(help: "Time limit per task, as Slurm writes it (e.g. 02:00:00).")
    var time: String?
    @Option(help: "CPUs per task (OpenBLAS threads).")
    var cpusPerTask = 2
    @Option(help: "Memory per task, as Slurm writes it (e.g. 8G).")
    var mem: String?
    @Flag(help: "Submit the scripts with sbatch after writing them.")
    var submit = false
    @Argument(parsing: .allUnrecognized, help: "The pixelrobust command to shard and its options (without --shard and --output).")
    var command: [String] = []

    /// The commands with --shard (besides smooth predict and certify).
    static let shardable = ["evaluate", "gradient-map", "attack", "masked-sweep", "transfer", "defense-table"]

    var jobArray: SlurmJobArray {
      let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
      return SlurmJobArray(executable: Self.executablePath, command: command, shards: shards,
                           run: URL(cliPath: runFolder).standardizedFileURL, workingDirectory: cwd,
                           resources: .init(partition: partition, time: time, cpusPerTask: cpusPerTask, memory: mem))
    }

    /// This executable's absolute path, which the tasks run.
    static var executablePath: String {
      (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
        ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    func validate() throws {
      let array = jobArray
      if let problem = array.problem { throw ValidationError(problem + ".") }
      let words = command.prefix(2).joined(separator: " ")
      guard Self.shardable.contains(command.first ?? "") || ["smooth predict", "smooth certify"].contains(words) else {
        throw ValidationError("'\(words)' cannot be sharded; use one of \(Self.shardable.joined(separator: ", ")), smooth predict, smooth certify.")
      }
      // The wrapped command is checked as task 0 would run it, so a typo fails here and not on the cluster.
      do {
        _ = try PixelRobustCommand.parseAsRoot(command + ["--shard", "0/\(shards)", "--output", array.shardFolder(0).path])
      } catch {
        throw ValidationError("the command to shard does not parse: \(PixelRobustCommand.message(for: error))")
      }
    }

    func run() throws {
      try OutputCheck(folders: [runFolder]).run()
      let array = jobArray
      let script = try array.write()
      print("wrote \(array.scriptFolder.path)/shards.sbatch, merge.sbatch and submit.sh (\(shards) shards)")
      guard submit else {
        print("submit with: \(script.path)")
        return
      }
      let (arrayID, mergeID) = try array.submit()
      print("submitted shard array \(arrayID) and merge job \(mergeID); the merged result will be in \(array.mergedFolder.path)")
    }
  }
}
