/* qpool-sse42.c — u8 max pooling, 16 channels per vector (see qpool.h). */
#include "qpool.h"

#include <smmintrin.h>

#define LOADU128(p) _mm_loadu_si128 ((const __m128i *) (p))
#define STOREU128(p, v) _mm_storeu_si128 ((__m128i *) (p), (v))

static inline void
block (const kk_qpool_taps *t, size_t c, uint8_t *o)
{
  __m128i m = _mm_setzero_si128 ();
  for (size_t i = 0; i < t->ny; i++)
    for (size_t j = 0; j < t->nx; j++)
      m = _mm_max_epu8 (m, LOADU128 (t->x + i * t->x_row + j * t->x_col + c));
  STOREU128 (o + c, m);
}

KK_QPOOL_PIXEL_BLOCKS (pixel, 16, block)

void
kk_maxpool_u8_nhwc_sse42 (const kk_pool_params *p, const uint8_t *in, uint8_t *out,
                       size_t row_begin, size_t row_end)
{
  KK_QPOOL_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
