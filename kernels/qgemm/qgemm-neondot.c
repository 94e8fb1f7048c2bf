/* qgemm-neondot.c — NEON int8 gemm with the Armv8.2 dot-product
 * instructions. sdot multiplies s8 by s8 only, so A goes in as a ^ 0x80
 * (= a - 128, a signed byte) and the packer adds 128 * sum W back into
 * bias_eff (a_offset = 128 in qgemm.h): the sum is the same integer.
 *
 * Layout: qgemm.h with VL = 4, G = 4 (16 bytes of W per group: 4 columns x
 * 4 k). Per row, 16 bytes of A hold 4 groups; sdot by lane picks one.
 * Tiles: 8 rows x 1 or 2 vectors, 4 x 3. Requantisation: qgemm-neon.h;
 * tiles, strips and entry points: qgemm-driver.h.
 */
#include "qgemm.h"

#include <arm_neon.h>
#include <string.h>

#define QGEMM_ISA neondot
#define VL 4
#define G 4
#define A_OFFSET 128
#define STRIP_ROWS 8
#define QGEMM_TILE_ROWS { 0, 8, 8, 4 }
#define QGEMM_TILES(X)                                                                  \
  X (1, 1) X (2, 1) X (3, 1) X (4, 1) X (5, 1) X (6, 1) X (7, 1) X (8, 1)               \
  X (1, 2) X (2, 2) X (3, 2) X (4, 2) X (5, 2) X (6, 2) X (7, 2) X (8, 2)               \
  X (1, 3) X (2, 3) X (3, 3) X (4, 3)

#include "qgemm-neon.h"

typedef int32x4_t qgemm_acc;
typedef int32x4_t qgemm_mult;

static inline qgemm_acc
qgemm_load_bias (const int32_t *p)
{
  return vld1q_s32 (p);
}

static inline __attribute__ ((always_inline)) void
qgemm_accumulate (const size_t mr, const size_t nv, size_t k, size_t lda, const uint8_t *a,
                  const int8_t *b, qgemm_acc acc[][3])
{
  const uint8x16_t flip = vdupq_n_u8 (0x80);

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
}

static inline void
qgemm_store_s32 (int32_t *p, qgemm_acc x, bool partial, qgemm_tail cols)
{
  if (partial)
    {
      int32_t values[VL];
      vst1q_s32 (values, x);
      memcpy (p, values, cols * sizeof (int32_t));
    }
  else
    vst1q_s32 (p, x);
}

static inline qgemm_mult
qgemm_load_mult (const int32_t *mult, bool partial, qgemm_tail cols)
{
  int32_t mv[VL] = { 0 };
  memcpy (mv, mult, (partial ? cols : VL) * sizeof (int32_t));
  return vld1q_s32 (mv);
}

static inline void
qgemm_store_u8 (uint8_t *p, qgemm_acc acc, const qgemm_mult *m, const qgemm_rq_consts *k,
                bool partial, qgemm_tail cols)
{
  int32x4_t x = requant4 (acc, *m, k);
  /* 0..255 now: the narrowing is exact */
  uint8x8_t bytes = vqmovun_s16 (vcombine_s16 (vmovn_s32 (x), vmovn_s32 (x)));
  uint8_t tmp[8];
  vst1_u8 (tmp, bytes);
  if (partial)
    memcpy (p, tmp, cols);
  else
    memcpy (p, tmp, VL);        /* a constant size: one store, no call */
}

#include "qgemm-driver.h"
