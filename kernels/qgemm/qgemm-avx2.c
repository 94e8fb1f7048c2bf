/* qgemm-avx2.c — AVX2 int8 gemm without saturation: A and W are widened to
 * 16 bits and multiplied pairwise by vpmaddwd, whose two products of at most
 * 255 x 127 each and their sum fit s32 exactly. (vpmaddubsw would be twice as
 * fast but adds two such products in s16, which saturates.)
 *
 * Layout: qgemm.h with VL = 8, G = 2. One group of a vector is 16 bytes of W,
 * 8 columns x 2 k, sign-extended to 16 words by vpmovsxbw; the matching A
 * operand is the dword (a[k], a[k + 1]) as two u16, broadcast. A strip of 12
 * rows of A is widened once into a stack buffer ([row][k] u16) so that every
 * broadcast is a plain 32-bit load; k beyond KK_QGEMM_CHUNK_K goes in chunks
 * that each tile widens for its own rows.
 *
 * The tiles, strips and entry points are qgemm-driver.h's; this file gives
 * it the AVX2 operations. Tiles: 12 rows x 1 vector, 6 x 2 or 3 x 3 (at most 12 accumulators, plus
 * the B vectors, the broadcast and the product: all in 16 ymm registers;
 * 4 x 3 would need 17 and spills, 6 x 2 rather than 4 x 2 loads and widens
 * each pair of W vectors for 6 rows instead of 4: 7% less time in the
 * front model's pointwise layers on a Zen 3).
 * The epilogue requantises 8 columns at a time: vpmuldq on the even and odd
 * lanes gives the 64-bit products, their high dwords are shifted
 * arithmetically by shift - 32 after adding 2^(shift - 33), which is the
 * reference's floor ((acc * m + 2^(shift - 1)) / 2^shift) exactly.
 */
#include "qgemm.h"

#include <immintrin.h>
#include <string.h>

#define QGEMM_ISA avx2
#define VL 8
#define G 2
#define A_OFFSET 0
#define STRIP_ROWS 12
#define CHUNK_PAIRS (KK_QGEMM_CHUNK_K / G)
#define QGEMM_WIDENS
#define QGEMM_BUFFERED_TAIL
#define QGEMM_TILE_ROWS { 0, 12, 6, 3 }
#define QGEMM_TILES(X)                                                                      \
  X (1, 1) X (2, 1) X (3, 1) X (4, 1) X (5, 1) X (6, 1) X (7, 1) X (8, 1) X (9, 1) X (10, 1) \
  X (11, 1) X (12, 1)                                                                       \
  X (1, 2) X (2, 2) X (3, 2) X (4, 2) X (5, 2) X (6, 2)                                     \
  X (1, 3) X (2, 3) X (3, 3)

typedef __m256i qgemm_acc;
typedef __m256i qgemm_wpair;    /* 8 columns x 2 k of W, or a broadcast A pair, as s16 */

typedef struct {
  __m256i rnd, zp, lo, hi, gather;
  __m128i count;
} qgemm_rq_consts;

typedef struct {
  __m256i m, m_odd;             /* m_odd: the odd lanes' multipliers in the even positions */
} qgemm_mult;

/* Widens the first values of a row of A to u16 a vector at a time; returns
 * how many (the driver's widen_rows does the rest). */
static inline size_t
qgemm_widen (uint16_t *dst, const uint8_t *src, size_t len)
{
  size_t x = 0;
  for (; x + 16 <= len; x += 16)
    _mm256_storeu_si256 ((__m256i *) (dst + x),
                         _mm256_cvtepu8_epi16 (_mm_loadu_si128 ((const __m128i *) (src + x))));
  if (x + 8 <= len)
    {
      _mm_storeu_si128 ((__m128i *) (dst + x),
                        _mm_cvtepu8_epi16 (_mm_loadl_epi64 ((const __m128i *) (src + x))));
      x += 8;
    }
  return x;
}

static inline qgemm_acc
qgemm_load_bias (const int32_t *p)
{
  return _mm256_loadu_si256 ((const __m256i *) p);
}

static inline qgemm_wpair
qgemm_load_wpair (const int8_t *p)
{
  return _mm256_cvtepi8_epi16 (_mm_loadu_si128 ((const __m128i *) p));
}

static inline qgemm_wpair
qgemm_broadcast_pair (uint32_t a_pair)
{
  return _mm256_set1_epi32 ((int) a_pair);
}

static inline qgemm_acc
qgemm_madd (qgemm_acc acc, qgemm_wpair a, qgemm_wpair w)
{
  return _mm256_add_epi32 (acc, _mm256_madd_epi16 (a, w));
}

static inline void
qgemm_store_s32 (int32_t *p, qgemm_acc x)
{
  _mm256_storeu_si256 ((__m256i *) p, x);
}

static inline void
qgemm_rq_setup (qgemm_rq_consts *k, const kk_requant *rq)
{
  k->rnd = _mm256_set1_epi32 ((int32_t) (1u << (rq->shift - 33)));
  k->count = _mm_cvtsi32_si128 ((int) (rq->shift - 32));
  k->zp = _mm256_set1_epi32 (rq->zero_point);
  k->lo = _mm256_set1_epi32 (rq->lo);
  k->hi = _mm256_set1_epi32 (rq->hi);
  k->gather = _mm256_setr_epi32 (0, 4, 1, 5, 2, 6, 3, 7);
}

static inline qgemm_mult
qgemm_load_mult (const int32_t *mult)
{
  qgemm_mult m;
  m.m = _mm256_loadu_si256 ((const __m256i *) mult);
  m.m_odd = _mm256_srli_epi64 (m.m, 32);
  return m;
}

/* floor ((acc * m + 2^(shift - 1)) / 2^shift) in each lane, plus the zero
 * point, clamped, stored as VL bytes. */
static inline void
qgemm_store_u8 (uint8_t *p, qgemm_acc acc, const qgemm_mult *m, const qgemm_rq_consts *k)
{
  __m256i even = _mm256_mul_epi32 (acc, m->m);
  __m256i odd = _mm256_mul_epi32 (_mm256_srli_epi64 (acc, 32), m->m_odd);
  __m256i high = _mm256_blend_epi32 (_mm256_srli_epi64 (even, 32), odd, 0xAA);
  __m256i x = _mm256_sra_epi32 (_mm256_add_epi32 (high, k->rnd), k->count);
  x = _mm256_min_epi32 (_mm256_max_epi32 (_mm256_add_epi32 (x, k->zp), k->lo), k->hi);
  /* 0..255 now: the saturating packs are exact; bytes 0-3 of each lane
   * hold 4 columns, gathered to the low 8 bytes. */
  x = _mm256_packus_epi16 (_mm256_packs_epi32 (x, x), x);
  x = _mm256_permutevar8x32_epi32 (x, k->gather);
  _mm_storel_epi64 ((__m128i *) p, _mm256_castsi256_si128 (x));
}

#include "qgemm-driver.h"
