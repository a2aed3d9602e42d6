import CMPIShim
import Foundation
import PixelTraining

/// The ranks of an `mpirun` launch as a ``DataParallelGroup`` over Open MPI's `MPI_COMM_WORLD`.
///
/// Only the main thread calls MPI (`MPI_THREAD_FUNNELED`); the engine's compute threads never do.
public final class MPIGroup: DataParallelGroup {
  public let rank: Int
  public let size: Int

  /// The group of this launch, initialising MPI, when the process was started by `mpirun` (its
  /// launcher sets `OMPI_COMM_WORLD_SIZE`, or PMIx's `PMIX_RANK`); `nil` otherwise, so a plain
  /// run never touches MPI.
  /// - Throws: ``MPIError`` when MPI cannot start.
  public static func launched(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> MPIGroup? {
    guard environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil else { return nil }
    let rc = pr_mpi_init()
    guard rc == 0 else { throw MPIError.call("MPI_Init_thread", code: rc) }
    return MPIGroup(rank: Int(pr_mpi_rank()), size: Int(pr_mpi_size()))
  }

  private init(rank: Int, size: Int) {
    self.rank = rank
    self.size = size
  }

  public func allReduceSum(_ values: inout [Float]) {
    let rc = values.withUnsafeMutableBufferPointer { pr_mpi_allreduce_sum_float($0.baseAddress, $0.count) }
    // NOTE: Open MPI's default error handler aborts the job before a failure returns here.
    precondition(rc == 0, "MPI_Allreduce failed with code \(rc)")
  }

  public func allReduceSum(_ values: inout [Double]) {
    let rc = values.withUnsafeMutableBufferPointer { pr_mpi_allreduce_sum_double($0.baseAddress, $0.count) }
    precondition(rc == 0, "MPI_Allreduce failed with code \(rc)")
  }

  /// Waits until every rank arrives.
  public func barrier() { precondition(pr_mpi_barrier() == 0, "MPI_Barrier failed") }

  /// Ends MPI (once, after the last collective call).
  public func finalize() {
    if pr_mpi_active() != 0 { _ = pr_mpi_finalize() }
  }

  /// Ends every rank of the job with `code`: what a rank that failed alone must do, since the
  /// others would wait for it in their next collective call forever.
  public func abort(code: Int32) -> Never {
    pr_mpi_abort(code)
    exit(code)
  }
}

/// MPI could not do what was asked; names the call and its error code.
public enum MPIError: Error, Equatable, CustomStringConvertible {
  case call(String, code: Int32)

  public var description: String {
    switch self {
    case let .call(name, code): return "\(name) failed with MPI error \(code)"
    }
  }
}
