extension Tensor {
  /// The examples `range` of a batch (a slice along axis 0).
  public func rows(_ range: Range<Int>) -> Tensor {
    precondition(range.lowerBound >= 0 && range.upperBound <= shape[0], "rows \(range) outside 0..<\(shape[0])")
    var dims = shape.dims
    dims[0] = range.count
    return slice(starts: [range.lowerBound] + [Int](repeating: 0, count: rank - 1), shape: Shape(dims))
  }

  /// Example `i` of a batch, without the batch axis.
  public subscript(i: Int) -> Tensor {
    rows(i..<(i + 1)).reshaped(to: Shape(Array(shape.dims.dropFirst())))
  }

  /// The examples at `indices` (in that order), e.g. a shuffled mini-batch.
  public func rows(at indices: [Int]) -> Tensor {
    let per = elementCount / Swift.max(shape[0], 1)
    var flat = [Int]()
    flat.reserveCapacity(indices.count * per)
    for i in indices {
      precondition(i >= 0 && i < shape[0], "row \(i) outside 0..<\(shape[0])")
      flat.append(contentsOf: (i * per)..<((i + 1) * per))
    }
    var dims = shape.dims
    dims[0] = indices.count
    return gathering(IndexBuffer(flat), shape: Shape(dims))
  }

  /// Inserts an axis of extent 1 at `axis`.
  public func expandingShape(at axis: Int) -> Tensor {
    var dims = shape.dims
    dims.insert(1, at: axis < 0 ? axis + rank + 1 : axis)
    return reshaped(to: Shape(dims))
  }

  /// Joins equally shaped tensors along a new axis.
  public static func stack(_ parts: [Tensor], alongAxis axis: Int = 0) -> Tensor {
    concatenate(parts.map { $0.expandingShape(at: axis) }, alongAxis: axis)
  }

  /// Collapses every axis after the first: `[N, …] → [N, rest]`.
  public func flattenedBatch() -> Tensor { reshaped(to: [shape[0], elementCount / Swift.max(shape[0], 1)]) }

  /// The 2-D transpose (a permute of the two axes).
  public func transposed() -> Tensor {
    precondition(rank == 2, "transposed() needs a 2-D tensor, got \(shape)")
    return permuted([1, 0])
  }
}
