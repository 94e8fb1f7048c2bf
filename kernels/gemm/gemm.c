/* Placeholder: the gemm family is not written yet, so tables stay incomplete. */
#include "kk-internal.h"

void
kk_gemm_fill (kk_kernels *table, kk_isa isa)
{
  (void) table;
  (void) isa;
}
