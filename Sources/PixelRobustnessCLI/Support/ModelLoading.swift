import ArgumentParser
import Foundation
import PixelData
import PixelDefenses
import PixelNN

/// The layer kinds the tool's checkpoints may hold: PixelNN's generic layers and the defenses.
let modelBuilder = ModelBuilder.withDefenses

/// Reads a checkpoint given on the command line.
func loadCheckpoint(_ path: String) throws -> (model: Model, metadata: [String: String]) {
  try Checkpoint.load(from: URL(cliPath: path), builder: modelBuilder)
}

/// A checkpoint and the data set it is applied to, checked to fit each other.
func loadModelAndData(_ modelPath: String, _ data: DataOptions) throws -> (Model, Dataset) {
  let (model, _) = try loadCheckpoint(modelPath)
  let dataset = try data.load(channels: model.spec.input.first)
  guard dataset.imageShape == model.spec.input else {
    throw ValidationError("the model expects inputs \(model.spec.input), \(dataset.name) has \(dataset.imageShape)")
  }
  try dataset.checkLabels(classes: model.spec.classes)
  return (model, dataset)
}
