/* Placeholder: the pool family is not written yet, so tables stay incomplete. */
#include "kk-internal.h"

void
kk_pool_fill (kk_kernels *table, kk_isa isa)
{
  (void) table;
  (void) isa;
}
