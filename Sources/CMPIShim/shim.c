#include "CMPIShim.h"
#include <limits.h>
#include <mpi.h>

int pr_mpi_init(void) {
  int provided = 0;
  return MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
}

int pr_mpi_active(void) {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  return initialized && !finalized;
}

int pr_mpi_rank(void) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int pr_mpi_size(void) {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

/* MPI counts are ints: large buffers go in chunks of at most INT_MAX elements. */
int pr_mpi_allreduce_sum_float(float *values, size_t count) {
  while (count > 0) {
    int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
    int rc = MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
    values += n;
    count -= (size_t)n;
  }
  return 0;
}

int pr_mpi_allreduce_sum_double(double *values, size_t count) {
  while (count > 0) {
    int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
    int rc = MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
    values += n;
    count -= (size_t)n;
  }
  return 0;
}

int pr_mpi_broadcast_bytes(void *bytes, size_t count, int root) {
  char *p = bytes;
  while (count > 0) {
    int n = count > (size_t)INT_MAX ? INT_MAX : (int)count;
    int rc = MPI_Bcast(p, n, MPI_BYTE, root, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS) return rc;
    p += n;
    count -= (size_t)n;
  }
  return 0;
}

int pr_mpi_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }

int pr_mpi_finalize(void) { return MPI_Finalize(); }

void pr_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
