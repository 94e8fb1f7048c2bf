/* qgemm-sse42.c — SSE4.2 int8 gemm: the AVX2 scheme (qgemm-avx2.c) on
 * 4-column vectors. A and W widened to 16 bits, pmaddwd pairs (exact in
 * s32, never saturating), pmuldq for the 64-bit requantisation products.
 * Layout: qgemm.h with VL = 4, G = 2 (8 bytes of W per group).
 */
#include "qgemm.h"

#include <smmintrin.h>
#include <string.h>

#define VL 4
#define G 2
#define STRIP_ROWS 12
#define CHUNK_PAIRS (KK_QGEMM_CHUNK_K / G)

size_t
qgemm_u8s8_packed_size_sse42 (size_t k, size_t n)
{
  return kk_qgemm_blocked_packed_size (k, n, VL, G);
}

void
qgemm_u8s8_pack_sse42 (const int8_t *w, size_t k, size_t n, bool w_is_nk, const int32_t *bias,
                      uint8_t a_zero_point, void *packed)
{
  kk_qgemm_blocked_pack (w, k, n, w_is_nk, bias, a_zero_point, 0, packed, VL, G);
}

typedef struct {
  size_t k, kpairs, lda, ldc;
  bool s32;                 /* store the accumulators instead of requantising */
  const kk_requant *rq;
} qgemm_args;

/* Widens k values [k0, k1) of `rows` rows of A into buf (row r at
 * buf + r * CHUNK_PAIRS pairs), zero-filling an odd last pair. */
static void
widen_rows (const uint8_t *a, size_t lda, size_t rows, size_t k0, size_t k1, uint32_t *buf)
{
  const size_t len = k1 - k0;
  for (size_t r = 0; r < rows; r++)
    {
      const uint8_t *src = a + r * lda + k0;
      uint16_t *dst = (uint16_t *) (buf + r * CHUNK_PAIRS);
      size_t x = 0;
      for (; x + 8 <= len; x += 8)
        _mm_storeu_si128 ((__m128i *) (dst + x),
                          _mm_cvtepu8_epi16 (_mm_loadl_epi64 ((const __m128i *) (src + x))));
      for (; x < len; x++)
        dst[x] = src[x];
      if (len & 1)
        dst[len] = 0;
    }
}

/* floor ((acc * m + 2^(shift - 1)) / 2^shift) in each lane; m_odd holds the
 * odd lanes' multipliers in the even positions. */
static inline __m128i
requant_shift (__m128i acc, __m128i m, __m128i m_odd, __m128i rnd, __m128i count)
{
  __m128i even = _mm_mul_epi32 (acc, m);
  __m128i odd = _mm_mul_epi32 (_mm_srli_epi64 (acc, 32), m_odd);
  __m128i high = _mm_blend_epi16 (_mm_srli_epi64 (even, 32), odd, 0xCC);
  return _mm_sra_epi32 (_mm_add_epi32 (high, rnd), count);
}

static inline __attribute__ ((always_inline)) void
qgemm_tile_sse42 (const size_t mr, const size_t nv, const qgemm_args *args, const uint8_t *a,
                 uint32_t *abuf, const int8_t *b, const int32_t *bias_eff, void *c,
                 size_t last_cols, const int32_t *mult)
{
  const size_t kpairs = args->kpairs, ldc = args->ldc;
  const bool tail = last_cols < VL;
  __m128i acc[12][3];

#pragma GCC unroll 3
  for (size_t v = 0; v < nv; v++)
    {
      const __m128i bias_v = _mm_loadu_si128 ((const __m128i *) (bias_eff + v * VL));
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        acc[r][v] = bias_v;
    }

  for (size_t p0 = 0; p0 < kpairs; p0 += CHUNK_PAIRS)
    {
      const size_t pairs = kpairs - p0 < CHUNK_PAIRS ? kpairs - p0 : CHUNK_PAIRS;
      if (kpairs > CHUNK_PAIRS)
        {
          size_t k1 = G * (p0 + pairs) < args->k ? G * (p0 + pairs) : args->k;
          widen_rows (a, args->lda, mr, G * p0, k1, abuf);
        }
      const int8_t *bp = b + p0 * nv * VL * G;
      for (size_t p = 0; p < pairs; p++)
        {
          __m128i bv[3];
#pragma GCC unroll 3
          for (size_t v = 0; v < nv; v++)
            bv[v] = _mm_cvtepi8_epi16 (_mm_loadl_epi64 ((const __m128i *) (bp + v * VL * G)));
          bp += nv * VL * G;
#pragma GCC unroll 12
          for (size_t r = 0; r < mr; r++)
            {
              const __m128i ar = _mm_set1_epi32 ((int) abuf[r * CHUNK_PAIRS + p]);
#pragma GCC unroll 3
              for (size_t v = 0; v < nv; v++)
                acc[r][v] = _mm_add_epi32 (acc[r][v], _mm_madd_epi16 (ar, bv[v]));
            }
        }
    }

  if (args->s32)
    {
      int32_t *out = c;
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          {
            int32_t *p = out + r * ldc + v * VL;
            if (tail && v == nv - 1)
              {
                int32_t values[VL];
                _mm_storeu_si128 ((__m128i *) values, acc[r][v]);
                memcpy (p, values, last_cols * sizeof (int32_t));
              }
            else
              _mm_storeu_si128 ((__m128i *) p, acc[r][v]);
          }
      return;
    }

  const kk_requant *rq = args->rq;
  const __m128i rnd = _mm_set1_epi32 ((int32_t) (1u << (rq->shift - 33)));
  const __m128i count = _mm_cvtsi32_si128 ((int) (rq->shift - 32));
  const __m128i zp = _mm_set1_epi32 (rq->zero_point);
  const __m128i lo = _mm_set1_epi32 (rq->lo), hi = _mm_set1_epi32 (rq->hi);
  __m128i m[3], m_odd[3];
  uint8_t *out = c;

#pragma GCC unroll 3
  for (size_t v = 0; v < nv; v++)
    {
      if (tail && v == nv - 1)
        {
          int32_t values[VL] = { 0 };
          memcpy (values, mult + v * VL, last_cols * sizeof (int32_t));
          m[v] = _mm_loadu_si128 ((const __m128i *) values);
        }
      else
        m[v] = _mm_loadu_si128 ((const __m128i *) (mult + v * VL));
      m_odd[v] = _mm_srli_epi64 (m[v], 32);
    }
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      {
        __m128i x = requant_shift (acc[r][v], m[v], m_odd[v], rnd, count);
        x = _mm_min_epi32 (_mm_max_epi32 (_mm_add_epi32 (x, zp), lo), hi);
        /* 0..255 now: the saturating packs are exact */
        x = _mm_packus_epi16 (_mm_packs_epi32 (x, x), x);
        int32_t bytes = _mm_cvtsi128_si32 (x);
        memcpy (out + r * ldc + v * VL, &bytes, tail && v == nv - 1 ? last_cols : VL);
      }
}

typedef void (*qgemm_tile_fn) (const qgemm_args *args, const uint8_t *a, uint32_t *abuf,
                               const int8_t *b, const int32_t *bias_eff, void *c,
                               size_t last_cols, const int32_t *mult);

#define TILE(MR, NV)                                                                        \
  static void qgemm_tile_##MR##x##NV##_sse42 (const qgemm_args *args, const uint8_t *a,      \
                                             uint32_t *abuf, const int8_t *b,               \
                                             const int32_t *bias_eff, void *c,              \
                                             size_t last_cols, const int32_t *mult)         \
  {                                                                                         \
    qgemm_tile_sse42 (MR, NV, args, a, abuf, b, bias_eff, c, last_cols, mult);               \
  }

TILE (1, 1) TILE (2, 1) TILE (3, 1) TILE (4, 1) TILE (5, 1) TILE (6, 1)
TILE (7, 1) TILE (8, 1) TILE (9, 1) TILE (10, 1) TILE (11, 1) TILE (12, 1)
TILE (1, 2) TILE (2, 2) TILE (3, 2) TILE (4, 2)
TILE (1, 3) TILE (2, 3) TILE (3, 3)

#undef TILE

static const size_t tile_rows[4] = { 0, 12, 4, 3 };

static const qgemm_tile_fn tiles[4][13] = {
  [1] = { NULL, qgemm_tile_1x1_sse42, qgemm_tile_2x1_sse42, qgemm_tile_3x1_sse42,
          qgemm_tile_4x1_sse42, qgemm_tile_5x1_sse42, qgemm_tile_6x1_sse42, qgemm_tile_7x1_sse42,
          qgemm_tile_8x1_sse42, qgemm_tile_9x1_sse42, qgemm_tile_10x1_sse42, qgemm_tile_11x1_sse42,
          qgemm_tile_12x1_sse42 },
  [2] = { NULL, qgemm_tile_1x2_sse42, qgemm_tile_2x2_sse42, qgemm_tile_3x2_sse42,
          qgemm_tile_4x2_sse42 },
  [3] = { NULL, qgemm_tile_1x3_sse42, qgemm_tile_2x3_sse42, qgemm_tile_3x3_sse42 },
};

static void
qgemm_sse42 (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
            const void *packed, void *c, size_t ldc, size_t c_elem, const kk_requant *rq)
{
  if (m_count == 0 || n == 0)
    return;

  const size_t nv_total = (n + VL - 1) / VL, npad = nv_total * VL;
  const size_t kpad = kk_qgemm_round_up (k, G);
  const int32_t *bias_eff = packed;
  const int8_t *panels = (const int8_t *) packed + npad * sizeof (int32_t);
  const qgemm_args args = { .k = k, .kpairs = kpad / G, .lda = lda, .ldc = ldc,
                            .s32 = rq == NULL, .rq = rq };
  const bool chunked = args.kpairs > CHUNK_PAIRS;
  _Alignas (16) uint32_t abuf[STRIP_ROWS * CHUNK_PAIRS];

  for (size_t i0 = 0; i0 < m_count; i0 += STRIP_ROWS)
    {
      const size_t strip = m_count - i0 < STRIP_ROWS ? m_count - i0 : STRIP_ROWS;
      if (!chunked)
        widen_rows (a + i0 * lda, lda, strip, 0, k, abuf);
      for (size_t v = 0; v < nv_total;)
        {
          const size_t bv = kk_gemm_block_vectors (nv_total - v);
          const size_t c0 = v * VL;
          const size_t last_cols = v + bv == nv_total ? n - (nv_total - 1) * VL : VL;
          const size_t mr = tile_rows[bv];
          for (size_t i = i0; i < i0 + strip; i += mr)
            {
              const size_t rows = i0 + strip - i < mr ? i0 + strip - i : mr;
              tiles[bv][rows] (&args, a + i * lda, abuf + (i - i0) * CHUNK_PAIRS,
                               panels + c0 * kpad, bias_eff + c0,
                               (uint8_t *) c + (i * ldc + c0) * c_elem, last_cols,
                               rq != NULL ? rq->multiplier + c0 : NULL);
            }
          v += bv;
        }
    }
}

void
qgemm_u8s8_requant_sse42 (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                         const void *packed, uint8_t *c, size_t ldc, const kk_requant *rq)
{
  qgemm_sse42 (m_count, n, k, a, lda, packed, c, ldc, sizeof (uint8_t), rq);
}

void
qgemm_u8s8_s32_sse42 (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                     const void *packed, int32_t *c, size_t ldc)
{
  qgemm_sse42 (m_count, n, k, a, lda, packed, c, ldc, sizeof (int32_t), NULL);
}
