import Foundation
import PixelAttacks
import PixelData
import PixelDefenses
import PixelImaging
import PixelNN
import PixelONNX
import PixelTensor
import PixelTraining

/// The parsers of untrusted files, each as a function of raw bytes that must return normally
/// (a typed error is a normal outcome) and never trap, leak or hang: the bodies of the libFuzzer
/// targets `FuzzIDX` … `FuzzONNX`, and of the corpus replay that `make test` runs.
public enum FuzzTargets {
  /// Every target by the name of its corpus folder (`Tests/PixelFuzzTargetsTests/Corpus/<name>`).
  public static let all: [(name: String, run: @Sendable (Data) -> Void)] = [
    ("idx", idx), ("cifar", cifar), ("png", png), ("safetensors", safetensors), ("npy", npy),
    ("model-spec", modelSpec), ("checkpoint", checkpoint), ("onnx", onnx), ("jpeg", jpeg), ("merge", merge),
  ]

  /// A folder of this process's own, where each input is written under the name its parser expects;
  /// removed when the process exits normally.
  static let scratch: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pixelrobust-fuzz-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(at: FuzzTargets.scratch) }
    return url
  }()

  static func file(_ name: String, _ data: Data) -> URL {
    let url = scratch.appendingPathComponent(name)
    try? data.write(to: url)
    return url
  }

  /// IDX, raw or gzip (zlib's gz API reads both): `IDX.read`, and a whole data set from it.
  @Sendable public static func idx(_ data: Data) {
    _ = try? IDX.read(file("t10k-images-idx3-ubyte", data))
    _ = try? IDX.dataset(directory: scratch, split: .test, name: "fuzz")
  }

  /// CIFAR-10 and CIFAR-100 binary records.
  @Sendable public static func cifar(_ data: Data) {
    _ = file("test_batch.bin", data)
    _ = try? CIFARBinary.cifar10(directory: scratch, split: .test)
    _ = file("test.bin", data)
    _ = try? CIFARBinary.cifar100(directory: scratch, split: .test)
  }

  /// PNG through libpng.
  @Sendable public static func png(_ data: Data) {
    _ = try? PNG.read(from: file("image.png", data))
  }

  /// JPEG through libjpeg-turbo, then resized and cropped as a folder data set would be.
  @Sendable public static func jpeg(_ data: Data) {
    guard let image = try? JPEG.decode(data, path: "fuzz.jpg") else { return }
    _ = image.resizedShorterSide(to: 7).centerCropped(width: 5, height: 5)
  }

  /// Safetensors, as F32 tensors and as F64 partial sums.
  @Sendable public static func safetensors(_ data: Data) {
    let url = file("tensors.safetensors", data)
    _ = try? SafeTensors.read(from: url)
    _ = try? SafeTensors.readFloat64(from: url)
  }

  /// NumPy `.npy`.
  @Sendable public static func npy(_ data: Data) {
    _ = try? NumPy.read(from: file("array.npy", data))
  }

  /// Model spec JSON, decoded and built with every layer kind the tool knows.
  @Sendable public static func modelSpec(_ data: Data) {
    guard let spec = try? ModelSpec.decode(data, source: "fuzz") else { return }
    _ = try? Model(spec: spec, seed: 0, source: "fuzz", builder: .withDefenses)
  }

  /// A checkpoint: safetensors whose metadata carries a spec, loaded strictly.
  @Sendable public static func checkpoint(_ data: Data) {
    _ = try? Checkpoint.load(from: file("model.safetensors", data), builder: .withDefenses)
  }

  /// An ONNX model file, decoded and translated (external data would have to sit in the scratch folder).
  @Sendable public static func onnx(_ data: Data) {
    _ = try? ONNXImporter.read(file("model.onnx", data))
  }

  /// What `pixelrobust merge` reads of a shard folder. The first byte picks the file the rest
  /// becomes: the manifest itself, or (behind a manifest that verifies, so the reader is reached)
  /// an evaluation's `outcomes.csv`, an attack's `outcomes.json` or a certification's rows.
  @Sendable public static func merge(_ data: Data) {
    guard let selector = data.first else { return }
    let body = data.dropFirst()
    let part = scratch.appendingPathComponent("part")
    try? FileManager.default.removeItem(at: part)
    try? FileManager.default.createDirectory(at: part, withIntermediateDirectories: true)
    let out = scratch.appendingPathComponent("merged")
    func partial(kind: String, files: [(String, Data)]) {
      for (name, bytes) in files { try? bytes.write(to: part.appendingPathComponent(name)) }
      let identity = PartialResult(kind: kind, shard: .whole, range: 0..<2, examples: 2, job: ["model_hash": "0"]).manifestIdentity
      _ = try? FolderManifest.write(folder: part, files: files.map(\.0), identity: identity)
    }
    switch selector % 4 {
    case 0:
      try? body.write(to: part.appendingPathComponent(FolderManifest.fileName))
      _ = try? PartialResult.collect([part])
    case 1:
      let logits = NumPy.encode(Tensor.zeros([2, 10]))
      partial(kind: EvaluationJob.kind, files: [("outcomes.csv", Data(body)), ("logits.npy", logits)])
      _ = try? EvaluationJob.merge([part], into: out)
    case 2:
      partial(kind: AttackJob.kind, files: [("outcomes.json", Data(body))])
      _ = try? AttackJob.merge([part], into: out)
    default:
      let run = CertificationRun(settings: .init(kind: .certify, sigma: 0.25, samples: 10), model: "m", data: "d", maskFraction: 1,
                                 rows: [], seconds: 0)
      let summary = (try? JSONEncoder().encode([run])) ?? Data()
      partial(kind: CertificationJob.partialKind(.certify), files: [(run.rowsFile, Data(body)), ("summary.json", summary)])
      _ = try? CertificationJob.merge([part], into: out)
    }
  }

  /// The program of a fuzz target: built with `-DFUZZING -sanitize=fuzzer,address`, libFuzzer's
  /// driver with `target` as the test function (its flags and corpus folders come from the
  /// command line); otherwise a replay of the files and folders named on the command line.
  public static func main(_ target: @escaping @Sendable (Data) -> Void) -> Never {
    #if FUZZING
    current = target
    var argc = CommandLine.argc
    var argv = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOneInput))
    #else
    replay(target)
    exit(0)
    #endif
  }

  /// Runs `target` over every file named on the command line (folders: every file inside), for
  /// reproducing a crash without the sanitizers.
  public static func replay(_ target: (Data) -> Void, arguments: [String] = Array(CommandLine.arguments.dropFirst())) {
    for path in arguments {
      var isFolder: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
      let files = isFolder.boolValue
        ? ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted().map { path + "/" + $0 } : [path]
      for f in files { if let data = FileManager.default.contents(atPath: f) { target(data) } }
    }
  }
}

#if FUZZING
extension FuzzTargets {
  /// The target libFuzzer's C callback calls (a C function pointer cannot capture it).
  nonisolated(unsafe) static var current: (@Sendable (Data) -> Void)?
}

/// libFuzzer's test function. The driver's own `main` (which the runtime library also holds and
/// which refers to this symbol) never runs: SwiftPM's executable `main` wins and starts the
/// driver through ``FuzzTargets/main(_:)``, which sets the target.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
  FuzzTargets.current?(bytes.map { Data(bytes: $0, count: count) } ?? Data())
  return 0
}

/// libFuzzer's entry for programs with a `main` of their own (SwiftPM gives every executable one).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt
#endif
