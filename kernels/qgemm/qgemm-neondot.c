/* qgemm-neondot.c — NEON int8 gemm with the Armv8.2 dot-product
 * instructions. sdot multiplies s8 by s8 only, so A goes in as a ^ 0x80
 * (= a - 128, a signed byte) and the packer adds 128 * sum W back into
 * bias_eff (a_offset = 128 in qgemm.h): the sum is the same integer.
 *
 * Layout: qgemm.h with VL = 4, G = 4 (16 bytes of W per group: 4 columns x
 * 4 k). Per row, 16 bytes of A hold 4 groups; sdot by lane picks one.
 * Tiles: 8 rows x 1 or 2 vectors, 4 x 3. Requantisation as qgemm-neon.c.
 */
#include "qgemm.h"

#include <arm_neon.h>
#include <string.h>

#define VL 4
#define G 4
#define STRIP_ROWS 8

size_t
qgemm_u8s8_packed_size_neondot (size_t k, size_t n)
{
  return kk_qgemm_blocked_packed_size (k, n, VL, G);
}

void
qgemm_u8s8_pack_neondot (const int8_t *w, size_t k, size_t n, bool w_is_nk, const int32_t *bias,
                         uint8_t a_zero_point, void *packed)
{
  kk_qgemm_blocked_pack (w, k, n, w_is_nk, bias, a_zero_point, 128, packed, VL, G);
}

typedef struct {
  size_t k, lda, ldc;
  bool s32;
  const kk_requant *rq;
} qgemm_args;

static inline int32x4_t
requant4 (int32x4_t acc, int32x4_t m, int64x2_t neg_shift, int32x4_t zp, int32x4_t lo, int32x4_t hi)
{
  int64x2_t p0 = vrshlq_s64 (vmull_s32 (vget_low_s32 (acc), vget_low_s32 (m)), neg_shift);
  int64x2_t p1 = vrshlq_s64 (vmull_high_s32 (acc, m), neg_shift);
  int32x4_t x = vcombine_s32 (vmovn_s64 (p0), vmovn_s64 (p1));
  return vminq_s32 (vmaxq_s32 (vaddq_s32 (x, zp), lo), hi);
}

static inline __attribute__ ((always_inline)) void
qgemm_tile_neondot (const size_t mr, const size_t nv, const qgemm_args *args, const uint8_t *a,
                    const int8_t *b, const int32_t *bias_eff, void *c, size_t last_cols,
                    const int32_t *mult)
{
  const size_t k = args->k, lda = args->lda, ldc = args->ldc;
  const bool tail = last_cols < VL;
  const uint8x16_t flip = vdupq_n_u8 (0x80);
  int32x4_t acc[8][3];

  for (size_t v = 0; v < nv; v++)
    {
      const int32x4_t bias_v = vld1q_s32 (bias_eff + v * VL);
      for (size_t r = 0; r < mr; r++)
        acc[r][v] = bias_v;
    }

#define STEP(LANE)                                                             \
  do                                                                           \
    {                                                                          \
      int8x16_t bv[3];                                                         \
      for (size_t v = 0; v < nv; v++)                                          \
        bv[v] = vld1q_s8 (bp + v * VL * G);                                    \
      bp += nv * VL * G;                                                       \
      for (size_t r = 0; r < mr; r++)                                          \
        for (size_t v = 0; v < nv; v++)                                        \
          acc[r][v] = vdotq_laneq_s32 (acc[r][v], bv[v], av[r], LANE);         \
    }                                                                          \
  while (0)

  const int8_t *bp = b;
  size_t kk = 0;
  for (; kk + 16 <= k; kk += 16)
    {
      int8x16_t av[8];
      for (size_t r = 0; r < mr; r++)
        av[r] = vreinterpretq_s8_u8 (veorq_u8 (vld1q_u8 (a + r * lda + kk), flip));
      STEP (0); STEP (1); STEP (2); STEP (3);
    }
  if (kk < k)
    {
      /* The last k % 16 values through a zero-padded copy of each row (the
       * padding meets zero weights). */
      int8x16_t av[8];
      for (size_t r = 0; r < mr; r++)
        {
          uint8_t row[16] = { 0 };
          memcpy (row, a + r * lda + kk, k - kk);
          av[r] = vreinterpretq_s8_u8 (veorq_u8 (vld1q_u8 (row), flip));
        }
      size_t groups = (k - kk + G - 1) / G;
      STEP (0);
      if (groups > 1)
        STEP (1);
      if (groups > 2)
        STEP (2);
      if (groups > 3)
        STEP (3);
    }
#undef STEP

  if (args->s32)
    {
      int32_t *out = c;
      for (size_t r = 0; r < mr; r++)
        for (size_t v = 0; v < nv; v++)
          {
            int32_t *p = out + r * ldc + v * VL;
            if (tail && v == nv - 1)
              {
                int32_t values[VL];
                vst1q_s32 (values, acc[r][v]);
                memcpy (p, values, last_cols * sizeof (int32_t));
              }
            else
              vst1q_s32 (p, acc[r][v]);
          }
      return;
    }

  const kk_requant *rq = args->rq;
  const int64x2_t neg_shift = vdupq_n_s64 (-(int64_t) rq->shift);
  const int32x4_t zp = vdupq_n_s32 (rq->zero_point);
  const int32x4_t lo = vdupq_n_s32 (rq->lo), hi = vdupq_n_s32 (rq->hi);
  uint8_t *out = c;

  for (size_t v = 0; v < nv; v++)
    {
      int32_t mv[VL] = { 0 };
      memcpy (mv, mult + v * VL, (tail && v == nv - 1 ? last_cols : VL) * sizeof (int32_t));
      const int32x4_t m = vld1q_s32 (mv);
      for (size_t r = 0; r < mr; r++)
        {
          int32x4_t x = requant4 (acc[r][v], m, neg_shift, zp, lo, hi);
          /* 0..255 now: the narrowing is exact */
          uint8x8_t bytes = vqmovun_s16 (vcombine_s16 (vmovn_s32 (x), vmovn_s32 (x)));
          uint8_t tmp[8];
          vst1_u8 (tmp, bytes);
          memcpy (out + r * ldc + v * VL, tmp, tail && v == nv - 1 ? last_cols : VL);
        }
    }
}

typedef void (*qgemm_tile_fn) (const qgemm_args *args, const uint8_t *a, const int8_t *b,
                               const int32_t *bias_eff, void *c, size_t last_cols,
                               const int32_t *mult);

#define TILE(MR, NV)                                                                          \
  static void qgemm_tile_##MR##x##NV##_neondot (const qgemm_args *args, const uint8_t *a,     \
                                                const int8_t *b, const int32_t *bias_eff,     \
                                                void *c, size_t last_cols, const int32_t *mult) \
  {                                                                                           \
    qgemm_tile_neondot (MR, NV, args, a, b, bias_eff, c, last_cols, mult);                    \
  }

TILE (1, 1) TILE (2, 1) TILE (3, 1) TILE (4, 1) TILE (5, 1) TILE (6, 1) TILE (7, 1) TILE (8, 1)
TILE (1, 2) TILE (2, 2) TILE (3, 2) TILE (4, 2) TILE (5, 2) TILE (6, 2) TILE (7, 2) TILE (8, 2)
TILE (1, 3) TILE (2, 3) TILE (3, 3) TILE (4, 3)

#undef TILE

static const size_t tile_rows[4] = { 0, 8, 8, 4 };

static const qgemm_tile_fn tiles[4][9] = {
  [1] = { NULL, qgemm_tile_1x1_neondot, qgemm_tile_2x1_neondot, qgemm_tile_3x1_neondot,
          qgemm_tile_4x1_neondot, qgemm_tile_5x1_neondot, qgemm_tile_6x1_neondot,
          qgemm_tile_7x1_neondot, qgemm_tile_8x1_neondot },
  [2] = { NULL, qgemm_tile_1x2_neondot, qgemm_tile_2x2_neondot, qgemm_tile_3x2_neondot,
          qgemm_tile_4x2_neondot, qgemm_tile_5x2_neondot, qgemm_tile_6x2_neondot,
          qgemm_tile_7x2_neondot, qgemm_tile_8x2_neondot },
  [3] = { NULL, qgemm_tile_1x3_neondot, qgemm_tile_2x3_neondot, qgemm_tile_3x3_neondot,
          qgemm_tile_4x3_neondot },
};

static void
qgemm_neondot (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
               const void *packed, void *c, size_t ldc, size_t c_elem, const kk_requant *rq)
{
  if (m_count == 0 || n == 0)
    return;

  const size_t nv_total = (n + VL - 1) / VL, npad = nv_total * VL;
  const size_t kpad = kk_qgemm_round_up (k, G);
  const int32_t *bias_eff = packed;
  const int8_t *panels = (const int8_t *) packed + npad * sizeof (int32_t);
  const qgemm_args args = { .k = k, .lda = lda, .ldc = ldc, .s32 = rq == NULL, .rq = rq };

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
              tiles[bv][rows] (&args, a + i * lda, panels + c0 * kpad, bias_eff + c0,
                               (uint8_t *) c + (i * ldc + c0) * c_elem, last_cols,
                               rq != NULL ? rq->multiplier + c0 : NULL);
            }
          v += bv;
        }
    }
}

void
qgemm_u8s8_requant_neondot (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                            const void *packed, uint8_t *c, size_t ldc, const kk_requant *rq)
{
  qgemm_neondot (m_count, n, k, a, lda, packed, c, ldc, sizeof (uint8_t), rq);
}

void
qgemm_u8s8_s32_neondot (size_t m_count, size_t n, size_t k, const uint8_t *a, size_t lda,
                        const void *packed, int32_t *c, size_t ldc)
{
  qgemm_neondot (m_count, n, k, a, lda, packed, c, ldc, sizeof (int32_t), NULL);
}
