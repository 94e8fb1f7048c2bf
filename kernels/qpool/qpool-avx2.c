/* qpool-avx2.c — u8 max pooling, 32 channels per vector (16 for
 * 16 <= C < 32; see qpool.h). */
#include "qpool.h"

#include <immintrin.h>

#define LOADU256(p) _mm256_loadu_si256 ((const __m256i *) (p))
#define STOREU256(p, v) _mm256_storeu_si256 ((__m256i *) (p), (v))

static inline void
block (const kk_qpool_taps *t, size_t c, uint8_t *o)
{
  __m256i m = _mm256_setzero_si256 ();
  for (size_t i = 0; i < t->ny; i++)
    for (size_t j = 0; j < t->nx; j++)
      m = _mm256_max_epu8 (m, LOADU256 (t->x + i * t->x_row + j * t->x_col + c));
  STOREU256 (o + c, m);
}

/* 16 channels, for 16 <= C < 32 */
static inline void
block16 (const kk_qpool_taps *t, size_t c, uint8_t *o)
{
  __m128i m = _mm_setzero_si128 ();
  for (size_t i = 0; i < t->ny; i++)
    for (size_t j = 0; j < t->nx; j++)
      m = _mm_max_epu8 (m, _mm_loadu_si128 ((const __m128i *) (t->x + i * t->x_row + j * t->x_col + c)));
  _mm_storeu_si128 ((__m128i *) (o + c), m);
}

KK_QPOOL_PIXEL_BLOCKS (pixel16, 16, block16)
KK_QPOOL_PIXEL_BLOCKS (pixel32, 32, block)

/* 16 <= C < 32 in 16-channel halves rather than one at a time. */
static void
pixel (const kk_qpool_taps *t, size_t C, uint8_t *o)
{
  if (C < 32)
    pixel16 (t, C, o);
  else
    pixel32 (t, C, o);
}

void
kk_maxpool_u8_nhwc_avx2 (const kk_pool_params *p, const uint8_t *in, uint8_t *out,
                       size_t row_begin, size_t row_end)
{
  KK_QPOOL_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
