/* qgemm-sse42.c — SSE4.2 int8 gemm: the AVX2 scheme (qgemm-avx2.c) on
 * 4-column vectors. A and W widened to 16 bits, pmaddwd pairs (exact in
 * s32, never saturating), pmuldq for the 64-bit requantisation products.
 * Layout: qgemm.h with VL = 4, G = 2 (8 bytes of W per group). Tiles and
 * driver as AVX2's (qgemm-driver.h).
 */
#include "qgemm.h"

#include <smmintrin.h>
#include <string.h>

#define QGEMM_ISA sse42
#define VL 4
#define G 2
#define A_OFFSET 0
#define STRIP_ROWS 12
#define CHUNK_PAIRS (KK_QGEMM_CHUNK_K / G)
#define QGEMM_WIDENS
#define QGEMM_BUFFERED_TAIL
#define QGEMM_TILE_ROWS { 0, 12, 4, 3 }
#define QGEMM_TILES(X)                                                                      \
  X (1, 1) X (2, 1) X (3, 1) X (4, 1) X (5, 1) X (6, 1) X (7, 1) X (8, 1) X (9, 1) X (10, 1) \
  X (11, 1) X (12, 1)                                                                       \
  X (1, 2) X (2, 2) X (3, 2) X (4, 2)                                                       \
  X (1, 3) X (2, 3) X (3, 3)

typedef __m128i qgemm_acc;
typedef __m128i qgemm_wpair;    /* 4 columns x 2 k of W, or a broadcast A pair, as s16 */

typedef struct {
  __m128i rnd, zp, lo, hi, count;
} qgemm_rq_consts;

typedef struct {
  __m128i m, m_odd;             /* m_odd: the odd lanes' multipliers in the even positions */
} qgemm_mult;

/* Widens the first values of a row of A to u16 a vector at a time; returns
 * how many (the driver's widen_rows does the rest). */
static inline size_t
qgemm_widen (uint16_t *dst, const uint8_t *src, size_t len)
{
  size_t x = 0;
  for (; x + 8 <= len; x += 8)
    _mm_storeu_si128 ((__m128i *) (dst + x),
                      _mm_cvtepu8_epi16 (_mm_loadl_epi64 ((const __m128i *) (src + x))));
  return x;
}

static inline qgemm_acc
qgemm_load_bias (const int32_t *p)
{
  return _mm_loadu_si128 ((const __m128i *) p);
}

static inline qgemm_wpair
qgemm_load_wpair (const int8_t *p)
{
  return _mm_cvtepi8_epi16 (_mm_loadl_epi64 ((const __m128i *) p));
}

static inline qgemm_wpair
qgemm_broadcast_pair (uint32_t a_pair)
{
  return _mm_set1_epi32 ((int) a_pair);
}

static inline qgemm_acc
qgemm_madd (qgemm_acc acc, qgemm_wpair a, qgemm_wpair w)
{
  return _mm_add_epi32 (acc, _mm_madd_epi16 (a, w));
}

static inline void
qgemm_store_s32 (int32_t *p, qgemm_acc x)
{
  _mm_storeu_si128 ((__m128i *) p, x);
}

static inline void
qgemm_rq_setup (qgemm_rq_consts *k, const kk_requant *rq)
{
  k->rnd = _mm_set1_epi32 ((int32_t) (1u << (rq->shift - 33)));
  k->count = _mm_cvtsi32_si128 ((int) (rq->shift - 32));
  k->zp = _mm_set1_epi32 (rq->zero_point);
  k->lo = _mm_set1_epi32 (rq->lo);
  k->hi = _mm_set1_epi32 (rq->hi);
}

static inline qgemm_mult
qgemm_load_mult (const int32_t *mult)
{
  qgemm_mult m;
  m.m = _mm_loadu_si128 ((const __m128i *) mult);
  m.m_odd = _mm_srli_epi64 (m.m, 32);
  return m;
}

/* floor ((acc * m + 2^(shift - 1)) / 2^shift) in each lane, plus the zero
 * point, clamped, stored as VL bytes. */
static inline void
qgemm_store_u8 (uint8_t *p, qgemm_acc acc, const qgemm_mult *m, const qgemm_rq_consts *k)
{
  __m128i even = _mm_mul_epi32 (acc, m->m);
  __m128i odd = _mm_mul_epi32 (_mm_srli_epi64 (acc, 32), m->m_odd);
  __m128i high = _mm_blend_epi16 (_mm_srli_epi64 (even, 32), odd, 0xCC);
  __m128i x = _mm_sra_epi32 (_mm_add_epi32 (high, k->rnd), k->count);
  x = _mm_min_epi32 (_mm_max_epi32 (_mm_add_epi32 (x, k->zp), k->lo), k->hi);
  /* 0..255 now: the saturating packs are exact */
  x = _mm_packus_epi16 (_mm_packs_epi32 (x, x), x);
  int32_t bytes = _mm_cvtsi128_si32 (x);
  memcpy (p, &bytes, VL);       /* a constant size: one store, no call */
}

#include "qgemm-driver.h"
