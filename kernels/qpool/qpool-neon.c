/* qpool-neon.c — u8 max pooling, 16 channels per vector (see qpool.h). */
#include "qpool.h"

#include <arm_neon.h>

static inline void
block (const kk_qpool_taps *t, size_t c, uint8_t *o)
{
  uint8x16_t m = vdupq_n_u8 (0);
  for (size_t i = 0; i < t->ny; i++)
    for (size_t j = 0; j < t->nx; j++)
      m = vmaxq_u8 (m, vld1q_u8 (t->x + i * t->x_row + j * t->x_col + c));
  vst1q_u8 (o + c, m);
}

KK_QPOOL_PIXEL_BLOCKS (pixel, 16, block)

void
kk_maxpool_u8_nhwc_neon (const kk_pool_params *p, const uint8_t *in, uint8_t *out,
                       size_t row_begin, size_t row_end)
{
  KK_QPOOL_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
