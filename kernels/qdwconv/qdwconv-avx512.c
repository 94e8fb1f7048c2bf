/* qdwconv-avx512.c — int8 depthwise convolution, 32 channels per block (two
 * zmm of s32 accumulators), the last block masked; scheme in qdwconv.h,
 * requantisation as in qgemm-avx512bw.c. */
#include "qdwconv.h"

#include <immintrin.h>

/* 16 requantised channels (0..255), only those in `mask` loaded */
static inline __m128i
requant16 (__m512i acc, const int32_t *mult, __mmask16 mask, const kk_requant *rq)
{
  const __m512i m = _mm512_maskz_loadu_epi32 (mask, mult);
  const __m512i even = _mm512_mul_epi32 (acc, m);
  const __m512i odd = _mm512_mul_epi32 (_mm512_srli_epi64 (acc, 32), _mm512_srli_epi64 (m, 32));
  __m512i x = _mm512_mask_blend_epi32 (0xAAAA, _mm512_srli_epi64 (even, 32), odd);
  x = _mm512_add_epi32 (x, _mm512_set1_epi32 ((int32_t) (1u << (rq->shift - 33))));
  x = _mm512_sra_epi32 (x, _mm_cvtsi32_si128 ((int) (rq->shift - 32)));
  x = _mm512_add_epi32 (x, _mm512_set1_epi32 (rq->zero_point));
  x = _mm512_min_epi32 (_mm512_max_epi32 (x, _mm512_set1_epi32 (rq->lo)), _mm512_set1_epi32 (rq->hi));
  return _mm512_cvtepi32_epi8 (x);
}

/* channels [c, c + 32), only those in mask */
static inline void
block32 (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, size_t c, uint8_t *o, __mmask32 mask)
{
  const __m512i zi = _mm512_set1_epi16 ((int16_t) p->input_zero_point);
  const __mmask16 m0 = (__mmask16) mask, m1 = (__mmask16) (mask >> 16);
  __m512i acc0 = _mm512_setzero_si512 (), acc1 = _mm512_setzero_si512 ();

  if (p->bias != NULL)
    {
      acc0 = _mm512_maskz_loadu_epi32 (m0, p->bias + c);
      acc1 = _mm512_maskz_loadu_epi32 (m1, p->bias + c + 16);
    }
  for (size_t i = 0; i < t->ny; i++)
    {
      const uint8_t *x = t->x + i * t->x_row + c;
      const int8_t *w = t->w + i * t->w_row + c;
      for (size_t j = 0; j < t->nx; j++, x += t->C, w += t->C)
        {
          __m512i xv = _mm512_sub_epi16 (_mm512_cvtepu8_epi16 (_mm256_maskz_loadu_epi8 (mask, x)), zi);
          __m512i wv = _mm512_cvtepi8_epi16 (_mm256_maskz_loadu_epi8 (mask, w));
          __m512i prod = _mm512_mullo_epi16 (xv, wv);
          acc0 = _mm512_add_epi32 (acc0, _mm512_cvtepi16_epi32 (_mm512_castsi512_si256 (prod)));
          acc1 = _mm512_add_epi32 (acc1, _mm512_cvtepi16_epi32 (_mm512_extracti64x4_epi64 (prod, 1)));
        }
    }
  _mm_mask_storeu_epi8 (o + c, m0, requant16 (acc0, p->requant.multiplier + c, m0, &p->requant));
  if (m1 != 0)
    _mm_mask_storeu_epi8 (o + c + 16, m1,
                          requant16 (acc1, p->requant.multiplier + c + 16, m1, &p->requant));
}

static void
pixel (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, uint8_t *o)
{
  const size_t C = p->channels;
  size_t c = 0;

  for (; c + 32 <= C; c += 32)
    block32 (p, t, c, o, ~(__mmask32) 0);
  if (c < C)
    block32 (p, t, c, o, (__mmask32) (((uint64_t) 1 << (C - c)) - 1));
}

void
kk_qdwconv_u8_nhwc_avx512 (const kk_qdwconv_params *p, const uint8_t *in, uint8_t *out,
                           size_t row_begin, size_t row_end)
{
  KK_QDWCONV_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
