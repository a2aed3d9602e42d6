import ArgumentParser
import Foundation
import PixelData
import PixelTensor

/// Checks, before any work starts, that a command's outputs can be written and that none of
/// them would replace one of its inputs.
struct OutputCheck {
  var files: [String] = []
  var folders: [String] = []
  var inputs: [String] = []
  /// The data sets the command reads: no output may be one of their files.
  var sources: [DataSource] = []

  /// Adds the data set of `--data`.
  mutating func reading(data: String) {
    if let source = try? DataSource(parsing: data) { sources.append(source) }
  }

  static func resolved(_ path: String) -> String {
    URL(cliPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }

  /// Checks a command that reads `inputs` and the data set `data` and writes into the folder
  /// `output`, then announces the runtime: the start of every folder-writing job.
  static func startFolderJob(output: String, inputs: [String], data: String) throws {
    var check = OutputCheck(folders: [output], inputs: inputs)
    check.reading(data: data)
    try check.run()
    Console.announceRuntime()
  }

  /// Throws a validation error naming the first problem.
  func run() throws {
    let outputs = (files + folders).map(Self.resolved)
    let ins = Set(inputs.map(Self.resolved))
    var seen = Set<String>()
    for (given, path) in zip(files + folders, outputs) {
      guard seen.insert(path).inserted else { throw ValidationError("\(given) is given as two different outputs.") }
      if ins.contains(path) { throw ValidationError("the output \(given) is also an input of this command; choose another path.") }
      if let source = sources.first(where: { $0.reads(URL(fileURLWithPath: path)) }) {
        throw ValidationError("the output \(given) would replace a file of the data set \(source).")
      }
    }
    do {
      for f in files { try AtomicFile.checkWritable(URL(cliPath: f)) }
      for d in folders {
        var isFolder: ObjCBool = false
        if FileManager.default.fileExists(atPath: d, isDirectory: &isFolder) {
          guard isFolder.boolValue else { throw ValidationError("the output folder \(d) exists and is not a folder.") }
          guard access(URL(cliPath: d).path, W_OK | X_OK) == 0 else {
            throw ValidationError("cannot write into the output folder \(d): \(String(cString: strerror(errno))).")
          }
        } else {
          try AtomicFile.checkWritable(URL(cliPath: d).appendingPathComponent("probe"))
        }
      }
    } catch let e as AtomicFileError {
      throw ValidationError("\(e).")
    }
  }
}
