/* qgemm-neon.c — NEON int8 gemm for cores without the dot-product
 * instructions: W widened to 16 bits (sxtl), A widened per 8 k, and smlal by
 * lane: s16 x s16 products added straight into s32 lanes, so nothing can
 * saturate.
 *
 * Layout: qgemm.h with VL = 8, G = 1 (8 bytes of W per k per vector; each
 * vector of 8 columns is two int32x4 accumulators). Tiles: 8 rows x 1
 * vector, 4 x 2, 2 x 3 (16 or 12 accumulators, plus one A vector per row).
 * Requantisation: qgemm-neon.h; tiles, strips and entry points:
 * qgemm-driver.h.
 */
#include "qgemm.h"

#include <arm_neon.h>
#include <string.h>

#define QGEMM_ISA neon
#define VL 8
#define G 1
#define A_OFFSET 0
#define STRIP_ROWS 8
#define QGEMM_TILE_ROWS { 0, 8, 4, 2 }
#define QGEMM_TILES(X)                                                                  \
  X (1, 1) X (2, 1) X (3, 1) X (4, 1) X (5, 1) X (6, 1) X (7, 1) X (8, 1)               \
  X (1, 2) X (2, 2) X (3, 2) X (4, 2)                                                   \
  X (1, 3) X (2, 3)

#include "qgemm-neon.h"

typedef int32x4x2_t qgemm_acc;  /* 8 columns in two registers */
typedef int32x4x2_t qgemm_mult;

static inline qgemm_acc
qgemm_load_bias (const int32_t *p)
{
  qgemm_acc x = { { vld1q_s32 (p), vld1q_s32 (p + 4) } };
  return x;
}

static inline __attribute__ ((always_inline)) void
qgemm_accumulate (const size_t mr, const size_t nv, size_t k, size_t lda, const uint8_t *a,
                  const int8_t *b, qgemm_acc acc[][3])
{
#define STEP(LANE)                                                                  \
  do                                                                                \
    {                                                                               \
      int16x8_t bw[3];                                                              \
      for (size_t v = 0; v < nv; v++)                                               \
        bw[v] = vmovl_s8 (vld1_s8 (bp + v * VL));                                   \
      bp += nv * VL;                                                                \
      for (size_t r = 0; r < mr; r++)                                               \
        for (size_t v = 0; v < nv; v++)                                             \
          {                                                                         \
            acc[r][v].val[0] = vmlal_laneq_s16 (acc[r][v].val[0], vget_low_s16 (bw[v]), av[r], LANE); \
            acc[r][v].val[1] = vmlal_high_laneq_s16 (acc[r][v].val[1], bw[v], av[r], LANE); \
          }                                                                         \
    }                                                                               \
  while (0)

  const int8_t *bp = b;
  size_t kk = 0;
  for (; kk + 8 <= k; kk += 8)
    {
      int16x8_t av[8];
      for (size_t r = 0; r < mr; r++)
        av[r] = vreinterpretq_s16_u16 (vmovl_u8 (vld1_u8 (a + r * lda + kk)));
      STEP (0); STEP (1); STEP (2); STEP (3); STEP (4); STEP (5); STEP (6); STEP (7);
    }
  if (kk < k)
    {
      /* The last k % 8 values, through a zero-padded copy of each row. */
      int16x8_t av[8];
      for (size_t r = 0; r < mr; r++)
        {
          uint8_t row[8] = { 0 };
          memcpy (row, a + r * lda + kk, k - kk);
          av[r] = vreinterpretq_s16_u16 (vmovl_u8 (vld1_u8 (row)));
        }
      switch (k - kk)
        {
        case 7: STEP (0); STEP (1); STEP (2); STEP (3); STEP (4); STEP (5); STEP (6); break;
        case 6: STEP (0); STEP (1); STEP (2); STEP (3); STEP (4); STEP (5); break;
        case 5: STEP (0); STEP (1); STEP (2); STEP (3); STEP (4); break;
        case 4: STEP (0); STEP (1); STEP (2); STEP (3); break;
        case 3: STEP (0); STEP (1); STEP (2); break;
        case 2: STEP (0); STEP (1); break;
        default: STEP (0); break;
        }
    }
#undef STEP
}

static inline void
qgemm_store_s32 (int32_t *p, qgemm_acc x, bool partial, qgemm_tail cols)
{
  if (partial)
    {
      int32_t values[VL];
      vst1q_s32 (values, x.val[0]);
      vst1q_s32 (values + 4, x.val[1]);
      memcpy (p, values, cols * sizeof (int32_t));
    }
  else
    {
      vst1q_s32 (p, x.val[0]);
      vst1q_s32 (p + 4, x.val[1]);
    }
}

static inline qgemm_mult
qgemm_load_mult (const int32_t *mult, bool partial, qgemm_tail cols)
{
  int32_t mv[VL] = { 0 };
  memcpy (mv, mult, (partial ? cols : VL) * sizeof (int32_t));
  qgemm_mult m = { { vld1q_s32 (mv), vld1q_s32 (mv + 4) } };
  return m;
}

static inline void
qgemm_store_u8 (uint8_t *p, qgemm_acc acc, const qgemm_mult *m, const qgemm_rq_consts *k,
                bool partial, qgemm_tail cols)
{
  int32x4_t x0 = requant4 (acc.val[0], m->val[0], k);
  int32x4_t x1 = requant4 (acc.val[1], m->val[1], k);
  /* 0..255 now: the narrowing is exact */
  uint8x8_t bytes = vqmovun_s16 (vcombine_s16 (vmovn_s32 (x0), vmovn_s32 (x1)));
  if (partial)
    {
      uint8_t tmp[VL];
      vst1_u8 (tmp, bytes);
      memcpy (p, tmp, cols);
    }
  else
    vst1_u8 (p, bytes);
}

#include "qgemm-driver.h"
