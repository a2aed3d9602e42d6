/// The processes of a data-parallel training run (MPI ranks): each computes its slice of every
/// global batch, and the gradients are summed across the group before every update.
///
/// PixelTraining names no transport; `PixelCluster.MPIGroup` implements this over Open MPI.
public protocol DataParallelGroup: AnyObject {
  /// This process's index, `0 ..< size`; rank 0 writes checkpoints and logs.
  var rank: Int { get }
  /// The number of processes.
  var size: Int { get }
  /// Replaces `values` with their elementwise sum over every process (all call it together).
  func allReduceSum(_ values: inout [Float])
  func allReduceSum(_ values: inout [Double])
}

extension DataParallelGroup {
  /// The rows of a global batch of `count` this process computes: contiguous, as even as
  /// possible (empty when `count < size` leaves none).
  public func slice(of count: Int) -> Range<Int> { (count * rank / size)..<(count * (rank + 1) / size) }
}
