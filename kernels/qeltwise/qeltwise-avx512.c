/* qeltwise-avx512.c — requantising add and rescale, 16 elements per zmm of
 * s32 (see qeltwise.h); the tail is one masked step. */
#include "qeltwise.h"

#include <immintrin.h>

typedef struct {
  __m512i za, zb, ma, mb, rnd, zp, lo, hi;
  __m128i count;
} consts;

static inline consts
consts_of (const kk_qadd_params *p)
{
  consts k;
  k.za = _mm512_set1_epi32 (p->zero_point_a);
  k.zb = _mm512_set1_epi32 (p->zero_point_b);
  k.ma = _mm512_set1_epi32 (p->multiplier_a);
  k.mb = _mm512_set1_epi32 (p->multiplier_b);
  k.rnd = _mm512_set1_epi32 ((int32_t) (1u << (p->shift - 1)));
  k.zp = _mm512_set1_epi32 (p->zero_point);
  k.lo = _mm512_set1_epi32 (p->lo);
  k.hi = _mm512_set1_epi32 (p->hi);
  k.count = _mm_cvtsi32_si128 ((int) p->shift);
  return k;
}

static inline __m128i
finish (__m512i t, const consts *k)
{
  t = _mm512_sra_epi32 (_mm512_add_epi32 (t, k->rnd), k->count);
  t = _mm512_min_epi32 (_mm512_max_epi32 (_mm512_add_epi32 (t, k->zp), k->lo), k->hi);
  return _mm512_cvtepi32_epi8 (t);  /* 0..255: exact */
}

void
kk_qadd_u8_avx512 (const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  const consts k = consts_of (p);
  for (size_t i = 0; i < n; i += 16)
    {
      const __mmask16 m = n - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - i)) - 1u);
      __m512i va = _mm512_cvtepu8_epi32 (_mm_maskz_loadu_epi8 (m, a + i));
      __m512i vb = _mm512_cvtepu8_epi32 (_mm_maskz_loadu_epi8 (m, b + i));
      __m512i t = _mm512_add_epi32 (_mm512_mullo_epi32 (_mm512_sub_epi32 (va, k.za), k.ma),
                                    _mm512_mullo_epi32 (_mm512_sub_epi32 (vb, k.zb), k.mb));
      _mm_mask_storeu_epi8 (y + i, m, finish (t, &k));
    }
}

void
kk_qrescale_u8_avx512 (const uint8_t *x, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  const consts k = consts_of (p);
  for (size_t i = 0; i < n; i += 16)
    {
      const __mmask16 m = n - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (n - i)) - 1u);
      __m512i vx = _mm512_cvtepu8_epi32 (_mm_maskz_loadu_epi8 (m, x + i));
      _mm_mask_storeu_epi8 (y + i, m, finish (_mm512_mullo_epi32 (_mm512_sub_epi32 (vx, k.za), k.ma), &k));
    }
}
