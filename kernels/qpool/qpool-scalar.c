/* qpool-scalar.c — the reference u8 max pooling (test oracle). */
#include "qpool.h"

static void
pixel (const kk_qpool_taps *t, size_t C, uint8_t *o)
{
  kk_qpool_pixel_scalar (t, 0, C, o);
}

void
kk_maxpool_u8_nhwc_scalar (const kk_pool_params *p, const uint8_t *in, uint8_t *out,
                           size_t row_begin, size_t row_end)
{
  KK_QPOOL_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
