#ifndef PIXELROBUST_CMPISHIM_H
#define PIXELROBUST_CMPISHIM_H
#include <stddef.h>

/// MPI_Init_thread with MPI_THREAD_FUNNELED (only the main thread calls MPI; compute threads
/// do not). Returns 0 on success, the MPI error code otherwise.
int pr_mpi_init(void);
/// Whether MPI_Init has run and MPI_Finalize has not.
int pr_mpi_active(void);
/// The rank and size of MPI_COMM_WORLD.
int pr_mpi_rank(void);
int pr_mpi_size(void);
/// In-place MPI_Allreduce with MPI_SUM over MPI_COMM_WORLD; 0 on success.
int pr_mpi_allreduce_sum_float(float *values, size_t count);
int pr_mpi_allreduce_sum_double(double *values, size_t count);
/// In-place MPI_Bcast of bytes from `root`; 0 on success.
int pr_mpi_broadcast_bytes(void *bytes, size_t count, int root);
int pr_mpi_barrier(void);
int pr_mpi_finalize(void);
/// MPI_Abort on MPI_COMM_WORLD: ends every rank.
void pr_mpi_abort(int code);
#endif
