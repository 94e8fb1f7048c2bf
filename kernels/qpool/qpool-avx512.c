/* qpool-avx512.c — u8 max pooling, 64 channels per vector, the
 * last block masked (see qpool.h). */
#include "qpool.h"

#include <immintrin.h>

/* Channels [c, c + 64) of one pixel, only those in `mask` (loads of the
 * others read nothing and they are not stored). */
static inline void
block (const kk_qpool_taps *t, size_t c, uint8_t *o, __mmask64 mask)
{
  __m512i m = _mm512_setzero_si512 ();
  for (size_t i = 0; i < t->ny; i++)
    for (size_t j = 0; j < t->nx; j++)
      m = _mm512_max_epu8 (m, _mm512_maskz_loadu_epi8 (mask, t->x + i * t->x_row + j * t->x_col + c));
  _mm512_mask_storeu_epi8 (o + c, mask, m);
}

static void
pixel (const kk_qpool_taps *t, size_t C, uint8_t *o)
{
  size_t c = 0;
  for (; c + 64 <= C; c += 64)
    block (t, c, o, ~(__mmask64) 0);
  if (c < C)
    block (t, c, o, ((__mmask64) 1 << (C - c)) - 1);
}

void
kk_maxpool_u8_nhwc_avx512 (const kk_pool_params *p, const uint8_t *in, uint8_t *out,
                       size_t row_begin, size_t row_end)
{
  KK_QPOOL_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
