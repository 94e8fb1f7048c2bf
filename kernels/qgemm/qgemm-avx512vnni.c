/* qgemm-avx512vnni.c — AVX-512 VNNI int8 gemm: vpdpbusd multiplies 4 u8 of
 * A by 4 s8 of W and adds the four products into an s32 lane, without
 * saturation (the non-"s" form wraps, and the sum is exact anyway), so A
 * and W are used as they are, with no widening.
 *
 * Layout: qgemm.h with VL = 16, G = 4 (64 bytes of W per group, 16 columns
 * x 4 k). The A operand of a group is 4 consecutive bytes of a row,
 * broadcast straight from A; the last group of a k that is not a multiple
 * of 4 is assembled byte by byte so that nothing past the row is read.
 * Tiles and the requantising epilogue are those of qgemm-avx512bw.c.
 */
#include "qgemm.h"

#include <immintrin.h>
#include <string.h>

#define VL 16
#define G 4
#define STRIP_ROWS 12

size_t
qgemm_u8s8_packed_size_avx512vnni (size_t k, size_t n)
{
  return kk_qgemm_blocked_packed_size (k, n, VL, G);
}

void
qgemm_u8s8_pack_avx512vnni (const int8_t *w, size_t k, size_t n, bool w_is_nk, const int32_t *bias,
                      uint8_t a_zero_point, void *packed)
{
  kk_qgemm_blocked_pack (w, k, n, w_is_nk, bias, a_zero_point, 0, packed, VL, G);
}

typedef struct {
  size_t k, kgroups, lda, ldc;
  bool s32;                 /* store the accumulators instead of requantising */
  const kk_requant *rq;
} qgemm_args;

static inline int32_t
load_word (const uint8_t *p)
{
  int32_t x;
  memcpy (&x, p, sizeof x);
  return x;
}

/* The A operand of group q of a row: 4 bytes, zero past k. */
static inline int32_t
a_group (const uint8_t *row, size_t q, size_t k)
{
  uint32_t x = 0;
  if (4 * q + 4 <= k)
    memcpy (&x, row + 4 * q, sizeof x);
  else
    for (size_t j = 0; 4 * q + j < k; j++)
      x |= (uint32_t) row[4 * q + j] << (8 * j);
  return (int32_t) x;
}

/* floor ((acc * m + 2^(shift - 1)) / 2^shift) in each lane; m_odd holds the
 * odd lanes' multipliers in the even positions. */
static inline __m512i
requant_shift (__m512i acc, __m512i m, __m512i m_odd, __m512i rnd, __m128i count)
{
  __m512i even = _mm512_mul_epi32 (acc, m);
  __m512i odd = _mm512_mul_epi32 (_mm512_srli_epi64 (acc, 32), m_odd);
  __m512i high = _mm512_mask_blend_epi32 (0xAAAA, _mm512_srli_epi64 (even, 32), odd);
  return _mm512_sra_epi32 (_mm512_add_epi32 (high, rnd), count);
}

static inline __attribute__ ((always_inline)) void
qgemm_tile_avx512vnni (const size_t mr, const size_t nv, const qgemm_args *args, const uint8_t *a,
                 const int8_t *b, const int32_t *bias_eff, void *c,
                 size_t last_cols, const int32_t *mult)
{
  const size_t kgroups = args->kgroups, ldc = args->ldc;
  const bool tail = last_cols < VL;
  __m512i acc[12][3];

#pragma GCC unroll 3
  for (size_t v = 0; v < nv; v++)
    {
      const __m512i bias_v = _mm512_loadu_si512 (bias_eff + v * VL);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        acc[r][v] = bias_v;
    }

  /* Whole groups straight from A, then the partial one (if any). */
  const size_t full = args->k / G, lda = args->lda;
  const int8_t *bp = b;
#define GROUP_STEP(WORD_OF_ROW)                                                 \
  do                                                                            \
    {                                                                           \
      __m512i bv[3];                                                            \
      _Pragma ("GCC unroll 3")                                                  \
      for (size_t v = 0; v < nv; v++)                                           \
        bv[v] = _mm512_loadu_si512 (bp + v * VL * G);                           \
      bp += nv * VL * G;                                                        \
      _Pragma ("GCC unroll 12")                                                 \
      for (size_t r = 0; r < mr; r++)                                           \
        {                                                                       \
          const __m512i ar = _mm512_set1_epi32 (WORD_OF_ROW);                   \
          _Pragma ("GCC unroll 3")                                              \
          for (size_t v = 0; v < nv; v++)                                       \
            acc[r][v] = _mm512_dpbusd_epi32 (acc[r][v], ar, bv[v]);             \
        }                                                                       \
    }                                                                           \
  while (0)

  for (size_t q = 0; q < full; q++)
    GROUP_STEP (load_word (a + r * lda + G * q));
  if (full < kgroups)
    GROUP_STEP (a_group (a + r * lda, full, args->k));
#undef GROUP_STEP

  const __mmask16 mask = (__mmask16) ((1u << last_cols) - 1u);

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
              _mm512_mask_storeu_epi32 (p, mask, acc[r][v]);
            else
              _mm512_storeu_si512 (p, acc[r][v]);
          }
      return;
    }

  const kk_requant *rq = args->rq;
  const __m512i rnd = _mm512_set1_epi32 ((int32_t) (1u << (rq->shift - 33)));
  const __m128i count = _mm_cvtsi32_si128 ((int) (rq->shift - 32));
  const __m512i zp = _mm512_set1_epi32 (rq->zero_point);
  const __m512i lo = _mm512_set1_epi32 (rq->lo), hi = _mm512_set1_epi32 (rq->hi);
  __m512i m[3], m_odd[3];
  uint8_t *out = c;

#pragma GCC unroll 3
  for (size_t v = 0; v < nv; v++)
    {
      m[v] = tail && v == nv - 1 ? _mm512_maskz_loadu_epi32 (mask, mult + v * VL)
                                 : _mm512_loadu_si512 (mult + v * VL);
      m_odd[v] = _mm512_srli_epi64 (m[v], 32);
    }
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      {
        __m512i x = requant_shift (acc[r][v], m[v], m_odd[v], rnd, count);
        x = _mm512_min_epi32 (_mm512_max_epi32 (_mm512_add_epi32 (x, zp), lo), hi);
        /* 0..255 now: truncating to bytes is exact */
        __m128i bytes = _mm512_cvtepi32_epi8 (x);
        uint8_t *p = out + r * ldc + v * VL;
        if (tail && v == nv - 1)
          _mm_mask_storeu_epi8 (p, mask, bytes);
        else
          _mm_storeu_si128 ((__m128i *) p, bytes);
      }
}

typedef void (*qgemm_tile_fn) (const qgemm_args *args, const uint8_t *a, 
                               const int8_t *b, const int32_t *bias_eff, void *c,
                               size_t last_cols, const int32_t *mult);

#define TILE(MR, NV)                                                                        \
  static void qgemm_tile_##MR##x##NV##_avx512vnni (const qgemm_args *args, const uint8_t *a,      \
                                             const int8_t *b,               \
                                             const int32_t *bias_eff, void *c,              \
                                             size_t last_cols, const int32_t *mult)         \
  {                                                                                         \
    qgemm_tile_avx512vnni (MR, NV, args, a, b, bias_eff, c, last_cols, mult);               \
  }

TILE (1, 1) TILE (2, 1) TILE (3, 1) TILE (4, 1) TILE (5, 1) TILE (6, 1)
TILE (7, 1) TILE (8, 1) TILE (9, 1) TILE (10, 1) TILE (11, 1) TILE (12, 1)
TILE (1, 2) TILE (2, 2) TILE (3, 2) TILE (4, 2) TILE (5, 2) TILE (6, 2)
TILE (1, 3) TILE (2, 3) TILE (3, 3) TILE (4, 3)

#undef TILE

static const size_t tile_rows[4] = { 0, 12, 6, 4 };

static const qgemm_tile_fn tiles[4][13] = {
  [1] = { NULL, qgemm_tile_1x1_avx512vnni, qgemm_tile_2x1_avx512vnni, qgemm_tile_3x1_avx512vnni,
          qgemm_tile_4x1_avx512vnni, qgemm_tile_5x1_avx512vnni, qgemm_tile_6x1_avx512vnni, qgemm_tile_7x1_avx512vnni,
          qgemm_tile_8x1_avx512vnni, qgemm_tile_9x1_avx512vnni, qgemm_tile_10x1_avx512vnni, qgemm_tile_11x1_avx512vnni,
          qgemm_tile_12x1_avx512vnni },
  [2] = { NULL, qgemm_tile_1x2_avx512vnni, qgemm_tile_2x2_avx512vnni, qgemm_tile_3x2_avx512vnni,
          qgemm_tile_4x2_avx512vnni, qgemm_tile_5x2_avx512vnni, qgemm_tile_6x2_avx512vnni },
  [3] = { NULL, qgemm_tile_1x3_avx512vnni, qgemm_tile_2x3_avx512vnni, qgemm_tile_3x3_avx512vnni,
          qgemm_tile_4x3_avx512vnni },
};

static void
qgemm_avx512vnni (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
            const void *packed, void *c, size_t ldc, size_t c_elem, const kk_requant *rq)
{
  if (m_count == 0 || n == 0)
    return;

  const size_t nv_total = (n + VL - 1) / VL, npad = nv_total * VL;
  const size_t kpad = kk_qgemm_round_up (k, G);
  const int32_t *bias_eff = packed;
  const int8_t *panels = (const int8_t *) packed + npad * sizeof (int32_t);
  const qgemm_args args = { .k = k, .kgroups = kpad / G, .lda = lda, .ldc = ldc,
                            .s32 = rq == NULL, .rq = rq };

  for (size_t i0 = 0; i0 < m_count; i0 += STRIP_ROWS)
    {
      const size_t strip = m_count - i0 < STRIP_ROWS ? m_count - i0 : STRIP_ROWS;
      for (size_t v = 0; v < nv_total;)
        {
          const size_t bv = kk_gemm_block_vectors (nv_total - v);
          const size_t c0 = v * VL;
          const size_t last_cols = v + bv == nv_total ? n - (nv_total - 1) * VL : VL;
          const size_t mr = tile_rows[bv];
          for (size_t i = i0; i < i0 + strip; i += mr)
            {
              const size_t rows = i0 + strip - i < mr ? i0 + strip - i : mr;
              tiles[bv][rows] (&args, a + i * lda,
                               panels + c0 * kpad, bias_eff + c0,
                               (uint8_t *) c + (i * ldc + c0) * c_elem, last_cols,
                               rq != NULL ? rq->multiplier + c0 : NULL);
            }
          v += bv;
        }
    }
}

void
qgemm_u8s8_requant_avx512vnni (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                         const void *packed, uint8_t *c, size_t ldc, const kk_requant *rq)
{
  qgemm_avx512vnni (m_count, n, k, a, lda, packed, c, ldc, sizeof (uint8_t), rq);
}

void
qgemm_u8s8_s32_avx512vnni (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                     const void *packed, int32_t *c, size_t ldc)
{
  qgemm_avx512vnni (m_count, n, k, a, lda, packed, c, ldc, sizeof (int32_t), NULL);
}
