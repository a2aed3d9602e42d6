import Foundation
import PixelCluster
import PixelTraining

/// Runs a training command's `body` alone, or as one rank of an `mpirun` launch: with the MPI
/// group when the launcher's variables are set, finalising MPI afterwards. A rank that fails
/// prints its error and aborts the whole job, since the other ranks would otherwise wait for it
/// in their next collective call forever.
func withDataParallelGroup(_ body: ((any DataParallelGroup)?) throws -> Void) throws {
  guard let group = try MPIGroup.launched() else { return try body(nil) }
  if group.rank == 0 { Console.note("data-parallel training on \(group.size) MPI ranks; rank 0 writes checkpoints and logs") }
  do {
    try body(group)
  } catch {
    Console.note("pixelrobust (rank \(group.rank) of \(group.size)): \(error)")
    group.abort(code: 1)
  }
  group.finalize()
}
