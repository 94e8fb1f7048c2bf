/* Placeholder: the eltwise family is not written yet, so tables stay incomplete. */
#include "kk-internal.h"

void
kk_eltwise_fill (kk_kernels *table, kk_isa isa)
{
  (void) table;
  (void) isa;
}
