import ArgumentParser
import Foundation
import PixelData
import PixelNN

/// A checkpoint and the data set it is applied to, checked to fit each other.
func loadModelAndData(_ modelPath: String, _ data: DataOptions) throws -> (Model, Dataset) {
  let (model, _) = try Checkpoint.load(from: URL(cliPath: modelPath))
  let dataset = try data.load(channels: model.spec.input.first)
  guard dataset.imageShape == model.spec.input else {
    throw ValidationError("the model expects inputs \(model.spec.input), \(dataset.name) has \(dataset.imageShape)")
  }
  return (model, dataset)
}
