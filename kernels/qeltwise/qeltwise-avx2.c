/* qeltwise-avx2.c — requantising add and rescale, 8 elements per ymm of
 * s32 (see qeltwise.h), 16 per loop. */
#include "qeltwise.h"

#include <immintrin.h>

typedef struct {
  __m256i za, zb, ma, mb, rnd, zp, lo, hi;
  __m128i count;
} consts;

static inline consts
consts_of (const kk_qadd_params *p)
{
  consts k;
  k.za = _mm256_set1_epi32 (p->zero_point_a);
  k.zb = _mm256_set1_epi32 (p->zero_point_b);
  k.ma = _mm256_set1_epi32 (p->multiplier_a);
  k.mb = _mm256_set1_epi32 (p->multiplier_b);
  k.rnd = _mm256_set1_epi32 ((int32_t) (1u << (p->shift - 1)));
  k.zp = _mm256_set1_epi32 (p->zero_point);
  k.lo = _mm256_set1_epi32 (p->lo);
  k.hi = _mm256_set1_epi32 (p->hi);
  k.count = _mm_cvtsi32_si128 ((int) p->shift);
  return k;
}

static inline __m256i
load8 (const uint8_t *p)
{
  return _mm256_cvtepu8_epi32 (_mm_loadl_epi64 ((const __m128i *) p));
}

/* The last step of kk_qadd_one for 8 sums t (rounding term not yet added). */
static inline __m256i
finish (__m256i t, const consts *k)
{
  t = _mm256_sra_epi32 (_mm256_add_epi32 (t, k->rnd), k->count);
  return _mm256_min_epi32 (_mm256_max_epi32 (_mm256_add_epi32 (t, k->zp), k->lo), k->hi);
}

/* 16 results (0..255 in s32) to 16 bytes */
static inline void
store16 (uint8_t *y, __m256i r0, __m256i r1)
{
  __m256i w = _mm256_packs_epi32 (r0, r1);                 /* lane-interleaved words */
  w = _mm256_permute4x64_epi64 (w, 0xD8);                  /* in order */
  __m128i b = _mm_packus_epi16 (_mm256_castsi256_si128 (w), _mm256_extracti128_si256 (w, 1));
  _mm_storeu_si128 ((__m128i *) y, b);
}

void
kk_qadd_u8_avx2 (const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  const consts k = consts_of (p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      __m256i r[2];
      for (int h = 0; h < 2; h++)
        {
          __m256i ta = _mm256_mullo_epi32 (_mm256_sub_epi32 (load8 (a + i + 8 * h), k.za), k.ma);
          __m256i tb = _mm256_mullo_epi32 (_mm256_sub_epi32 (load8 (b + i + 8 * h), k.zb), k.mb);
          r[h] = finish (_mm256_add_epi32 (ta, tb), &k);
        }
      store16 (y + i, r[0], r[1]);
    }
  kk_qadd_u8_tail (a + i, b + i, y + i, n - i, p);
}

void
kk_qrescale_u8_avx2 (const uint8_t *x, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  const consts k = consts_of (p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      __m256i r0 = finish (_mm256_mullo_epi32 (_mm256_sub_epi32 (load8 (x + i), k.za), k.ma), &k);
      __m256i r1 = finish (_mm256_mullo_epi32 (_mm256_sub_epi32 (load8 (x + i + 8), k.za), k.ma), &k);
      store16 (y + i, r0, r1);
    }
  kk_qrescale_u8_tail (x + i, y + i, n - i, p);
}
