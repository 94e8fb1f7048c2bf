/* qdwconv-sse42.c — int8 depthwise convolution, 8 channels per block (two
 * xmm of s32 accumulators); scheme in qdwconv.h, requantisation as in
 * qgemm-sse42.c. */
#include "qdwconv.h"

#include <smmintrin.h>

static inline __m128i
requant4 (__m128i acc, const int32_t *mult, const kk_requant *rq)
{
  const __m128i m = _mm_loadu_si128 ((const __m128i *) mult);
  const __m128i even = _mm_mul_epi32 (acc, m);
  const __m128i odd = _mm_mul_epi32 (_mm_srli_epi64 (acc, 32), _mm_srli_epi64 (m, 32));
  __m128i x = _mm_blend_epi16 (_mm_srli_epi64 (even, 32), odd, 0xCC);
  x = _mm_add_epi32 (x, _mm_set1_epi32 ((int32_t) (1u << (rq->shift - 33))));
  x = _mm_sra_epi32 (x, _mm_cvtsi32_si128 ((int) (rq->shift - 32)));
  x = _mm_add_epi32 (x, _mm_set1_epi32 (rq->zero_point));
  return _mm_min_epi32 (_mm_max_epi32 (x, _mm_set1_epi32 (rq->lo)), _mm_set1_epi32 (rq->hi));
}

static inline void
block8 (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, size_t c, uint8_t *o)
{
  const __m128i zi = _mm_set1_epi16 ((int16_t) p->input_zero_point);
  __m128i acc0 = _mm_setzero_si128 (), acc1 = _mm_setzero_si128 ();

  if (p->bias != NULL)
    {
      acc0 = _mm_loadu_si128 ((const __m128i *) (p->bias + c));
      acc1 = _mm_loadu_si128 ((const __m128i *) (p->bias + c + 4));
    }
  for (size_t i = 0; i < t->ny; i++)
    {
      const uint8_t *x = t->x + i * t->x_row + c;
      const int8_t *w = t->w + i * t->w_row + c;
      for (size_t j = 0; j < t->nx; j++, x += t->C, w += t->C)
        {
          __m128i xv = _mm_sub_epi16 (_mm_cvtepu8_epi16 (_mm_loadl_epi64 ((const __m128i *) x)), zi);
          __m128i wv = _mm_cvtepi8_epi16 (_mm_loadl_epi64 ((const __m128i *) w));
          __m128i prod = _mm_mullo_epi16 (xv, wv);
          acc0 = _mm_add_epi32 (acc0, _mm_cvtepi16_epi32 (prod));
          acc1 = _mm_add_epi32 (acc1, _mm_cvtepi16_epi32 (_mm_srli_si128 (prod, 8)));
        }
    }

  const __m128i r0 = requant4 (acc0, p->requant.multiplier + c, &p->requant);
  const __m128i r1 = requant4 (acc1, p->requant.multiplier + c + 4, &p->requant);
  __m128i bytes = _mm_packus_epi16 (_mm_packs_epi32 (r0, r1), _mm_setzero_si128 ());
  _mm_storel_epi64 ((__m128i *) (o + c), bytes);
}

KK_QDWCONV_PIXEL_BLOCKS (pixel, 8, block8)

void
kk_qdwconv_u8_nhwc_sse42 (const kk_qdwconv_params *p, const uint8_t *in, uint8_t *out,
                          size_t row_begin, size_t row_end)
{
  KK_QDWCONV_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
