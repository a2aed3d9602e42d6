import ArgumentParser

/// The PRM's architecture and training protocol, shared by `prm train` and `prm sweep`.
struct PRMModelOptions: ParsableArguments {
  @Option(help: "PRM encoder width (channels).")
  var width = 16
  @Option(help: "PRM encoder depth (3×3 convolutions after the first layer).")
  var depth = 2
  @Option(help: "Pretrained classifier checkpoint to put the PRM in front of.")
  var classifier: String?
  @Flag(help: "Train only the PRM; keep the classifier's weights.")
  var freezeClassifier = false
  @Option(help: "Weight of the reconstruction loss mean (P(x) − x)².")
  var reconstruction: Float = 0
  @Option(help: "Classifier architecture when no --classifier is given.")
  var arch: ArchitectureChoice = .smallCNN

  func validate() throws {
    guard (1...4096).contains(width), (0...64).contains(depth) else {
      throw ValidationError("--width must be in 1...4096 and --depth in 0...64.")
    }
    guard reconstruction >= 0, reconstruction.isFinite else { throw ValidationError("--reconstruction must be finite and ≥ 0.") }
    if freezeClassifier && classifier == nil { throw ValidationError("--freeze-classifier needs --classifier.") }
  }
}
