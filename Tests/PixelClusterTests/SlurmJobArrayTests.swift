import Foundation
import Testing
import _TestSupport
@testable import PixelCluster

@Suite("Slurm job arrays: the scripts, their quoting and the values they refuse")
struct SlurmJobArrayTests {
  static func array(_ command: [String] = ["gradient-map", "--model", "it's.safetensors", "--data", "cifar10:/d/c 10"],
                    shards: Int = 4, resources: SlurmJobArray.Resources = .init(partition: "cpu", time: "01:30:00", cpusPerTask: 8,
                                                                                memory: "16G")) -> SlurmJobArray {
    SlurmJobArray(executable: "/opt/pixel robust/bin/pixelrobust", command: command, shards: shards,
                  run: URL(fileURLWithPath: "/runs/map"), workingDirectory: URL(fileURLWithPath: "/home/u"), resources: resources)
  }

  @Test("the array script runs task i as shard i/n into RUN/shard-i, every word quoted for the shell")
  func arrayScript() {
    let lines = Self.array().arrayScript.split(separator: "\n").map(String.init)
    #expect(lines.first == "#!/bin/bash")
    for expected in ["#SBATCH --array=0-3", "#SBATCH --cpus-per-task=8", "#SBATCH --partition=cpu", "#SBATCH --time=01:30:00",
                     "#SBATCH --mem=16G", "#SBATCH --chdir=/home/u", "#SBATCH --job-name=pixelrobust-gradient-map",
                     "#SBATCH --output=/runs/map/logs/shard-%a.out"] {
      #expect(lines.contains(expected), "\(expected)")
    }
    #expect(lines.last == "exec '/opt/pixel robust/bin/pixelrobust' 'gradient-map' '--model' 'it'\\''s.safetensors' '--data' "
            + "'cifar10:/d/c 10' --shard \"$i/4\" --output '/runs/map'/shard-\"$i\"")
  }

  @Test("the merge script merges every shard folder into RUN/merged; submit.sh chains it after the array")
  func mergeAndSubmit() {
    let a = Self.array(shards: 3)
    #expect(a.mergeScript.hasSuffix("exec '/opt/pixel robust/bin/pixelrobust' merge '/runs/map/shard-0' '/runs/map/shard-1' "
                                    + "'/runs/map/shard-2' --output '/runs/map/merged'\n"))
    #expect(!a.mergeScript.contains("--array"))
    #expect(a.submitScript.contains("sbatch --parsable --dependency=afterok:\"$array\" \"$here/merge.sbatch\""))
  }

  @Test("bad values are refused before anything is written", arguments: [
    (["gradient-map", "--shard", "1/2"], 2, SlurmJobArray.Resources(), "drop --shard"),
    (["evaluate", "--output=x"], 2, .init(), "drop --output=x"),
    (["evaluate"], 0, .init(), "1...1000"),
    (["evaluate"], 1001, .init(), "1...1000"),
    ([], 2, .init(), "give the pixelrobust command"),
    (["evaluate"], 2, .init(cpusPerTask: 0), "--cpus-per-task"),
    (["evaluate"], 2, .init(partition: "a b"), "--partition"),
    (["evaluate"], 2, .init(time: "1:00\n#SBATCH --x"), "--time"),
    (["evaluate"], 2, .init(memory: ""), "--mem"),
  ])
  func problems(_ command: [String], _ shards: Int, _ resources: SlurmJobArray.Resources, _ fragment: String) {
    let problem = Self.array(command, shards: shards, resources: resources).problem
    #expect(problem?.contains(fragment) == true, "\(problem ?? "none")")
  }

  @Test("write puts three executable scripts and a logs folder under the run folder")
  func writes() throws {
    let root = temporaryFolder("slurm-scripts")
    var a = Self.array()
    a.run = root.appendingPathComponent("run")
    let submit = try a.write()
    #expect(submit.lastPathComponent == "submit.sh")
    for name in ["shards.sbatch", "merge.sbatch", "submit.sh"] {
      let path = a.scriptFolder.appendingPathComponent(name).path
      #expect(FileManager.default.isExecutableFile(atPath: path), "\(name)")
    }
    var isFolder: ObjCBool = false
    #expect(FileManager.default.fileExists(atPath: a.run.appendingPathComponent("logs").path, isDirectory: &isFolder) && isFolder.boolValue)
    #expect(try String(contentsOf: a.scriptFolder.appendingPathComponent("shards.sbatch"), encoding: .utf8) == a.arrayScript)
  }
}
