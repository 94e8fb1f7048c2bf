/* qdwconv-avx2.c — int8 depthwise convolution, 16 channels per block (two
 * ymm of s32 accumulators); scheme in qdwconv.h, requantisation as in
 * qgemm-avx2.c. */
#include "qdwconv.h"

#include <immintrin.h>

/* floor ((acc * m + 2^(shift - 1)) / 2^shift), zero point, clamp */
static inline __m256i
requant8 (__m256i acc, const int32_t *mult, const kk_requant *rq)
{
  const __m256i m = _mm256_loadu_si256 ((const __m256i *) mult);
  const __m256i even = _mm256_mul_epi32 (acc, m);
  const __m256i odd = _mm256_mul_epi32 (_mm256_srli_epi64 (acc, 32), _mm256_srli_epi64 (m, 32));
  __m256i x = _mm256_blend_epi32 (_mm256_srli_epi64 (even, 32), odd, 0xAA);
  x = _mm256_add_epi32 (x, _mm256_set1_epi32 ((int32_t) (1u << (rq->shift - 33))));
  x = _mm256_sra_epi32 (x, _mm_cvtsi32_si128 ((int) (rq->shift - 32)));
  x = _mm256_add_epi32 (x, _mm256_set1_epi32 (rq->zero_point));
  return _mm256_min_epi32 (_mm256_max_epi32 (x, _mm256_set1_epi32 (rq->lo)), _mm256_set1_epi32 (rq->hi));
}

static inline void
block16 (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, size_t c, uint8_t *o)
{
  const __m256i zi = _mm256_set1_epi16 ((int16_t) p->input_zero_point);
  __m256i acc0 = _mm256_setzero_si256 (), acc1 = _mm256_setzero_si256 ();

  if (p->bias != NULL)
    {
      acc0 = _mm256_loadu_si256 ((const __m256i *) (p->bias + c));
      acc1 = _mm256_loadu_si256 ((const __m256i *) (p->bias + c + 8));
    }
  for (size_t i = 0; i < t->ny; i++)
    {
      const uint8_t *x = t->x + i * t->x_row + c;
      const int8_t *w = t->w + i * t->w_row + c;
      for (size_t j = 0; j < t->nx; j++, x += t->C, w += t->C)
        {
          __m256i xv = _mm256_sub_epi16 (_mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) x)), zi);
          __m256i wv = _mm256_cvtepi8_epi16 (_mm_loadu_si128 ((const __m128i *) w));
          __m256i prod = _mm256_mullo_epi16 (xv, wv);
          acc0 = _mm256_add_epi32 (acc0, _mm256_cvtepi16_epi32 (_mm256_castsi256_si128 (prod)));
          acc1 = _mm256_add_epi32 (acc1, _mm256_cvtepi16_epi32 (_mm256_extracti128_si256 (prod, 1)));
        }
    }

  const __m256i r0 = requant8 (acc0, p->requant.multiplier + c, &p->requant);
  const __m256i r1 = requant8 (acc1, p->requant.multiplier + c + 8, &p->requant);
  __m256i w16 = _mm256_permute4x64_epi64 (_mm256_packs_epi32 (r0, r1), 0xD8);
  __m128i bytes = _mm_packus_epi16 (_mm256_castsi256_si128 (w16), _mm256_extracti128_si256 (w16, 1));
  _mm_storeu_si128 ((__m128i *) (o + c), bytes);
}

static void
pixel (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, uint8_t *o)
{
  const size_t C = p->channels;
  size_t c = 0;

  if (C < 16)
    {
      kk_qdwconv_pixel_scalar (p, t, 0, C, o);
      return;
    }
  for (; c + 16 <= C; c += 16)
    block16 (p, t, c, o);
  if (c < C)
    block16 (p, t, C - 16, o);
}

void
kk_qdwconv_u8_nhwc_avx2 (const kk_qdwconv_params *p, const uint8_t *in, uint8_t *out,
                         size_t row_begin, size_t row_end)
{
  KK_QDWCONV_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
