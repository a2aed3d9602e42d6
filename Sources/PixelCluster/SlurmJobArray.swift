import Foundation
import PixelData
import PixelTensor

/// A sharded `pixelrobust` job as Slurm scripts: a job array of `shards` tasks, task `i`
/// running the command with `--shard i/n --output RUN/shard-i`, and a merge job that starts
/// when every task succeeded (`--dependency=afterok`) and writes `RUN/merged`.
///
/// Kubernetes Indexed Jobs follow the same pattern: `completionMode: Indexed`,
/// `completions: n`, and each pod runs the command with `--shard $JOB_COMPLETION_INDEX/n`; a
/// second Job runs the merge once the first completes.
public struct SlurmJobArray: Sendable, Equatable {
  /// What each task asks Slurm for.
  public struct Resources: Sendable, Equatable {
    public var partition: String?
    /// `--time`, e.g. `02:00:00` or `1-00:00:00`.
    public var time: String?
    public var cpusPerTask: Int
    /// `--mem`, e.g. `8G`.
    public var memory: String?

    /// The resources; ``SlurmJobArray/problem`` checks them.
    public init(partition: String? = nil, time: String? = nil, cpusPerTask: Int = 2, memory: String? = nil) {
      self.partition = partition; self.time = time; self.cpusPerTask = cpusPerTask; self.memory = memory
    }
  }

  /// The `pixelrobust` executable the tasks run (an absolute path).
  public var executable: String
  /// The command and its arguments, without `--shard` and `--output`.
  public var command: [String]
  public var shards: Int
  /// The run folder: `shard-<i>/`, `merged/`, `logs/` and `slurm/` (the scripts) go there.
  public var run: URL
  /// The folder the tasks start in (relative paths of `command` are relative to it).
  public var workingDirectory: URL
  public var resources: Resources

  /// A job array; ``problem`` checks it before anything is written.
  public init(executable: String, command: [String], shards: Int, run: URL, workingDirectory: URL, resources: Resources = .init()) {
    self.executable = executable; self.command = command; self.shards = shards; self.run = run
    self.workingDirectory = workingDirectory; self.resources = resources
  }

  /// The largest job array written: Slurm's default `MaxArraySize` is 1001.
  public static let maximumShards = 1000

  /// The first problem with these values, in words, or `nil`.
  public var problem: String? {
    if !(1...Self.maximumShards).contains(shards) { return "the number of shards must lie in 1...\(Self.maximumShards), got \(shards)" }
    if !(1...4096).contains(resources.cpusPerTask) { return "--cpus-per-task must lie in 1...4096, got \(resources.cpusPerTask)" }
    if command.isEmpty { return "give the pixelrobust command to shard" }
    if let bad = command.first(where: { $0 == "--shard" || $0.hasPrefix("--shard=") || $0 == "--output" || $0.hasPrefix("--output=") }) {
      return "the job array sets each task's --shard and --output itself: drop \(bad)"
    }
    // Values land in #SBATCH lines: keep them to what Slurm's option syntax allows.
    let safe = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-_.:,"))
    for (name, value) in [("--partition", resources.partition), ("--time", resources.time), ("--mem", resources.memory)] {
      if let value, value.isEmpty || value.unicodeScalars.contains(where: { !safe.contains($0) || !$0.isASCII }) {
        return "\(name) '\(value)' has characters Slurm does not accept there"
      }
    }
    if run.path.contains("\n") || workingDirectory.path.contains("\n") { return "a path contains a line break" }
    return nil
  }

  /// Task `i`'s output folder.
  public func shardFolder(_ i: Int) -> URL { run.appendingPathComponent("shard-\(i)") }
  /// The merged result.
  public var mergedFolder: URL { run.appendingPathComponent("merged") }
  /// The scripts' folder.
  public var scriptFolder: URL { run.appendingPathComponent("slurm") }

  /// `text` as one single-quoted shell word.
  static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

  func header(name: String, log: String) -> [String] {
    var lines = ["#!/bin/bash", "#SBATCH --job-name=\(name)", "#SBATCH --chdir=\(workingDirectory.path)",
                 "#SBATCH --cpus-per-task=\(resources.cpusPerTask)", "#SBATCH --ntasks=1",
                 "#SBATCH --output=\(run.appendingPathComponent("logs").path)/\(log).out",
                 "#SBATCH --error=\(run.appendingPathComponent("logs").path)/\(log).err"]
    if let p = resources.partition { lines.append("#SBATCH --partition=\(p)") }
    if let t = resources.time { lines.append("#SBATCH --time=\(t)") }
    if let m = resources.memory { lines.append("#SBATCH --mem=\(m)") }
    return lines
  }

  /// The job name: `pixelrobust-<command>`.
  var name: String { "pixelrobust-" + command.prefix { !$0.hasPrefix("-") }.joined(separator: "-") }

  /// The array script.
  public var arrayScript: String {
    let lines = header(name: name, log: "shard-%a") + [
      "#SBATCH --array=0-\(shards - 1)",
      "set -euo pipefail",
      "# One compute thread per allocated CPU.",
      "export PIXELROBUST_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
      "i=\"$SLURM_ARRAY_TASK_ID\"",
      "exec " + ([executable] + command).map(Self.quoted).joined(separator: " ")
        + " --shard \"$i/\(shards)\" --output " + Self.quoted(run.path) + "/shard-\"$i\"",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The merge script.
  public var mergeScript: String {
    let folders = (0..<shards).map { Self.quoted(shardFolder($0).path) }.joined(separator: " ")
    let lines = header(name: name + "-merge", log: "merge") + [
      "set -euo pipefail",
      "exec \(Self.quoted(executable)) merge \(folders) --output \(Self.quoted(mergedFolder.path))",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The submission script: the array, then the merge depending on it; prints both job IDs.
  public var submitScript: String {
    """
    #!/bin/bash
    # Submits the shard array, then the merge once every shard succeeded.
    set -euo pipefail
    here="$(cd "$(dirname "$0")" && pwd)"
    array="$(sbatch --parsable "$here/shards.sbatch")"
    array="${array%%;*}"
    merge="$(sbatch --parsable --dependency=afterok:"$array" "$here/merge.sbatch")"
    merge="${merge%%;*}"
    echo "$array $merge" > "$here/jobs.txt"
    echo "submitted shard array $array and merge job $merge (after $array succeeds)"

    """
  }

  /// Writes `slurm/shards.sbatch`, `slurm/merge.sbatch` and `slurm/submit.sh` (executable)
  /// under the run folder, and creates `logs/`.
  /// - Returns: the submission script's location.
  @discardableResult
  public func write() throws -> URL {
    precondition(problem == nil, problem ?? "")
    try FileManager.default.createDirectory(at: run.appendingPathComponent("logs"), withIntermediateDirectories: true)
    try FileManager.default.createDirectory(at: scriptFolder, withIntermediateDirectories: true)
    for (name, text) in [("shards.sbatch", arrayScript), ("merge.sbatch", mergeScript), ("submit.sh", submitScript)] {
      let url = scriptFolder.appendingPathComponent(name)
      try AtomicFile.write(Data(text.utf8), to: url)
      guard chmod(url.path, 0o755) == 0 else { throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: url.path]) }
    }
    return scriptFolder.appendingPathComponent("submit.sh")
  }

  /// Runs the submission script (`sbatch` must be on the PATH).
  /// - Returns: the shard array's and the merge job's IDs.
  /// - Throws: ``SlurmError`` with `sbatch`'s message when submission fails.
  public func submit() throws -> (array: String, merge: String) {
    let script = scriptFolder.appendingPathComponent("submit.sh")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [script.path]
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = FileHandle.nullDevice
    do { try process.run() } catch { throw SlurmError.submission("cannot run \(script.path): \(error)") }
    let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0,
          let ids = try? String(contentsOf: scriptFolder.appendingPathComponent("jobs.txt"), encoding: .utf8)
            .split(separator: " ").map({ $0.trimmingCharacters(in: .whitespacesAndNewlines) }), ids.count == 2 else {
      throw SlurmError.submission(message.isEmpty ? "\(script.path) exited with status \(process.terminationStatus)" : message)
    }
    return (ids[0], ids[1])
  }
}

/// A job array that could not be submitted.
public enum SlurmError: Error, Equatable, CustomStringConvertible {
  case submission(String)

  public var description: String {
    switch self {
    case let .submission(m): return "sbatch failed: \(m.trimmingCharacters(in: .whitespacesAndNewlines))"
    }
  }
}
