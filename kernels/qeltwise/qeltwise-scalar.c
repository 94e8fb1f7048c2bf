/* qeltwise-scalar.c — the reference requantising add and rescale. */
#include "qeltwise.h"

void
kk_qadd_u8_scalar (const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  kk_qadd_u8_tail (a, b, y, n, p);
}

void
kk_qrescale_u8_scalar (const uint8_t *x, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  kk_qrescale_u8_tail (x, y, n, p);
}
