/* qeltwise-sse42.c — requantising add and rescale, 4 elements per xmm of
 * s32 (see qeltwise.h), 16 per loop. */
#include "qeltwise.h"

#include <smmintrin.h>

typedef struct {
  __m128i za, zb, ma, mb, rnd, zp, lo, hi, count;
} consts;

static inline consts
consts_of (const kk_qadd_params *p)
{
  consts k;
  k.za = _mm_set1_epi32 (p->zero_point_a);
  k.zb = _mm_set1_epi32 (p->zero_point_b);
  k.ma = _mm_set1_epi32 (p->multiplier_a);
  k.mb = _mm_set1_epi32 (p->multiplier_b);
  k.rnd = _mm_set1_epi32 ((int32_t) (1u << (p->shift - 1)));
  k.zp = _mm_set1_epi32 (p->zero_point);
  k.lo = _mm_set1_epi32 (p->lo);
  k.hi = _mm_set1_epi32 (p->hi);
  k.count = _mm_cvtsi32_si128 ((int) p->shift);
  return k;
}

/* the 4 bytes at lane group g of a 16-byte vector, widened */
static inline __m128i
widen4 (__m128i v, int g)
{
  switch (g)
    {
    case 0: return _mm_cvtepu8_epi32 (v);
    case 1: return _mm_cvtepu8_epi32 (_mm_srli_si128 (v, 4));
    case 2: return _mm_cvtepu8_epi32 (_mm_srli_si128 (v, 8));
    default: return _mm_cvtepu8_epi32 (_mm_srli_si128 (v, 12));
    }
}

static inline __m128i
finish (__m128i t, const consts *k)
{
  t = _mm_sra_epi32 (_mm_add_epi32 (t, k->rnd), k->count);
  return _mm_min_epi32 (_mm_max_epi32 (_mm_add_epi32 (t, k->zp), k->lo), k->hi);
}

static inline void
store16 (uint8_t *y, const __m128i r[4])
{
  __m128i w0 = _mm_packs_epi32 (r[0], r[1]), w1 = _mm_packs_epi32 (r[2], r[3]);
  _mm_storeu_si128 ((__m128i *) y, _mm_packus_epi16 (w0, w1));
}

void
kk_qadd_u8_sse42 (const uint8_t *a, const uint8_t *b, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  const consts k = consts_of (p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      const __m128i va = _mm_loadu_si128 ((const __m128i *) (a + i));
      const __m128i vb = _mm_loadu_si128 ((const __m128i *) (b + i));
      __m128i r[4];
      for (int g = 0; g < 4; g++)
        {
          __m128i ta = _mm_mullo_epi32 (_mm_sub_epi32 (widen4 (va, g), k.za), k.ma);
          __m128i tb = _mm_mullo_epi32 (_mm_sub_epi32 (widen4 (vb, g), k.zb), k.mb);
          r[g] = finish (_mm_add_epi32 (ta, tb), &k);
        }
      store16 (y + i, r);
    }
  kk_qadd_u8_tail (a + i, b + i, y + i, n - i, p);
}

void
kk_qrescale_u8_sse42 (const uint8_t *x, uint8_t *y, size_t n, const kk_qadd_params *p)
{
  const consts k = consts_of (p);
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    {
      const __m128i vx = _mm_loadu_si128 ((const __m128i *) (x + i));
      __m128i r[4];
      for (int g = 0; g < 4; g++)
        r[g] = finish (_mm_mullo_epi32 (_mm_sub_epi32 (widen4 (vx, g), k.za), k.ma), &k);
      store16 (y + i, r);
    }
  kk_qrescale_u8_tail (x + i, y + i, n - i, p);
}
