// OpenBLAS ships the CBLAS interface inside libopenblas (Debian has no libcblas);
// cblas.h also declares openblas_set_num_threads / openblas_get_corename.
#include <cblas.h>
