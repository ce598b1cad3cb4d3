// OpenBLAS through its CBLAS interface, plus the openblas_* thread controls.
#include <cblas.h>
