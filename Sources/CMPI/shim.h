// Open MPI's C interface. Its handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM) are C macros that
// Swift cannot import, so Swift calls the plain functions of CMPIShim instead.
#include <mpi.h>
