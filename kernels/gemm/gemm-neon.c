/* gemm-neon.c — aarch64 Advanced SIMD gemm over the blocked packed B
 * described in gemm.h (4 floats per vector), the same design as AVX2.
 *
 * With 32 vector registers every tile is 8 rows tall: 8 x 8 for the
 * 2-vector blocks (16 accumulators), 8 x 12 for a 3-vector tail block (24),
 * 8 x 4 when n <= 4. vfmaq_n_f32 multiplies by a scalar of A held in a
 * register lane, so no separate broadcast is needed. Rows go in strips of 8
 * so a strip of A stays in L1 while it visits every column block of an
 * L2-sized group of B.
 *
 * Edges: columns past n are B's zero padding, computed and never stored
 * (bias/residual tails read lane by lane, stores a 2/1 cascade); rows past
 * m_count are never computed (one instantiation per row count).
 */
#include "gemm.h"

#include <arm_neon.h>

#define VL 4

size_t
gemm_f32_packed_size_neon (size_t k, size_t n)
{
  return kk_gemm_blocked_packed_size (k, n, VL);
}

void
gemm_f32_pack_b_neon (const float *b, size_t k, size_t n, bool b_is_nk, float *packed)
{
  kk_gemm_blocked_pack_b (b, k, n, b_is_nk, packed, VL);
}

typedef struct {
  size_t k, lda, ldc, ldr;
  bool has_bias, has_residual, has_lo, has_hi;
  float lo, hi;
} gemm_args;

/* The first cols (1..3) floats at p, zeros above: never reads past them. */
static inline float32x4_t
load_partial (const float *p, size_t cols)
{
  float32x4_t x = vdupq_n_f32 (0.0f);
  x = vld1q_lane_f32 (p, x, 0);
  if (cols >= 2)
    x = vld1q_lane_f32 (p + 1, x, 1);
  if (cols >= 3)
    x = vld1q_lane_f32 (p + 2, x, 2);
  return x;
}

/* Stores the first cols (1..3) lanes of x. */
static inline void
store_partial (float *p, float32x4_t x, size_t cols)
{
  if (cols & 2)
    {
      vst1_f32 (p, vget_low_f32 (x));
      x = vextq_f32 (x, x, 2);
      p += 2;
    }
  if (cols & 1)
    vst1q_lane_f32 (p, x, 0);
}

static inline __attribute__ ((always_inline)) void
gemm_tile_neon (const size_t mr, const size_t nv, const gemm_args *args,
                const float *a, const float *b, float *c, size_t last_cols,
                const float *bias, const float *res)
{
  const size_t k = args->k, lda = args->lda, ldc = args->ldc, ldr = args->ldr;
  const bool has_bias = args->has_bias, has_residual = args->has_residual;
  const bool has_lo = args->has_lo, has_hi = args->has_hi;
  const size_t w = nv * VL;
  float32x4_t acc[8][3];

#pragma GCC unroll 8
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      acc[r][v] = vdupq_n_f32 (0.0f);

  for (size_t kk = 0; kk < k; kk++)
    {
      float32x4_t bv[3];
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        bv[v] = vld1q_f32 (b + v * VL);
      b += w;
#pragma GCC unroll 8
      for (size_t r = 0; r < mr; r++)
        {
          const float ar = a[r * lda + kk];
#pragma GCC unroll 3
          for (size_t v = 0; v < nv; v++)
            acc[r][v] = vfmaq_n_f32 (acc[r][v], bv[v], ar);
        }
    }

  /* Epilogue in the reference's order, one pass per part so each flag is
   * tested once per tile rather than once per vector (see gemm-avx2.c). */
  const bool tail = last_cols < VL;

  if (has_bias)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      {
        const bool partial = tail && v == nv - 1;
        float32x4_t bias_v = partial ? load_partial (bias + v * VL, last_cols) : vld1q_f32 (bias + v * VL);
#pragma GCC unroll 8
        for (size_t r = 0; r < mr; r++)
          acc[r][v] = vaddq_f32 (acc[r][v], bias_v);
      }
  if (has_residual)
#pragma GCC unroll 8
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        {
          const bool partial = tail && v == nv - 1;
          const float *rp = res + r * ldr + v * VL;
          acc[r][v] = vaddq_f32 (acc[r][v], partial ? load_partial (rp, last_cols) : vld1q_f32 (rp));
        }
  /* Compare and select rather than FMAX/FMIN: like the reference, a NaN sum
   * stays NaN and -0 stays -0 against a 0 bound. */
  if (has_lo)
    {
      const float32x4_t lo = vdupq_n_f32 (args->lo);
#pragma GCC unroll 8
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          acc[r][v] = vbslq_f32 (vcltq_f32 (acc[r][v], lo), lo, acc[r][v]);
    }
  if (has_hi)
    {
      const float32x4_t hi = vdupq_n_f32 (args->hi);
#pragma GCC unroll 8
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          acc[r][v] = vbslq_f32 (vcgtq_f32 (acc[r][v], hi), hi, acc[r][v]);
    }

#pragma GCC unroll 8
  for (size_t r = 0; r < mr; r++)
    {
#pragma GCC unroll 3
      for (size_t v = 0; v + 1 < nv; v++)
        vst1q_f32 (c + r * ldc + v * VL, acc[r][v]);
      if (!tail)
        vst1q_f32 (c + r * ldc + (nv - 1) * VL, acc[r][nv - 1]);
      else
        store_partial (c + r * ldc + (nv - 1) * VL, acc[r][nv - 1], last_cols);
    }
}

typedef void (*gemm_tile_fn) (const gemm_args *args, const float *a, const float *b, float *c,
                              size_t last_cols, const float *bias, const float *res);

#define TILE(MR, NV)                                                                   \
  static void gemm_tile_##MR##x##NV##_neon (const gemm_args *args, const float *a,     \
                                            const float *b, float *c, size_t last_cols, \
                                            const float *bias, const float *res)        \
  {                                                                                    \
    gemm_tile_neon (MR, NV, args, a, b, c, last_cols, bias, res);                      \
  }

TILE (1, 1) TILE (2, 1) TILE (3, 1) TILE (4, 1) TILE (5, 1) TILE (6, 1) TILE (7, 1) TILE (8, 1)
TILE (1, 2) TILE (2, 2) TILE (3, 2) TILE (4, 2) TILE (5, 2) TILE (6, 2) TILE (7, 2) TILE (8, 2)
TILE (1, 3) TILE (2, 3) TILE (3, 3) TILE (4, 3) TILE (5, 3) TILE (6, 3) TILE (7, 3) TILE (8, 3)

#undef TILE

#define TILE_ROWS 8

static const gemm_tile_fn tiles[4][TILE_ROWS + 1] = {
  [1] = { NULL, gemm_tile_1x1_neon, gemm_tile_2x1_neon, gemm_tile_3x1_neon, gemm_tile_4x1_neon,
          gemm_tile_5x1_neon, gemm_tile_6x1_neon, gemm_tile_7x1_neon, gemm_tile_8x1_neon },
  [2] = { NULL, gemm_tile_1x2_neon, gemm_tile_2x2_neon, gemm_tile_3x2_neon, gemm_tile_4x2_neon,
          gemm_tile_5x2_neon, gemm_tile_6x2_neon, gemm_tile_7x2_neon, gemm_tile_8x2_neon },
  [3] = { NULL, gemm_tile_1x3_neon, gemm_tile_2x3_neon, gemm_tile_3x3_neon, gemm_tile_4x3_neon,
          gemm_tile_5x3_neon, gemm_tile_6x3_neon, gemm_tile_7x3_neon, gemm_tile_8x3_neon },
};

void
gemm_f32_neon (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
               const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue)
{
  if (m_count == 0 || n == 0)
    return;

  const kk_epilogue_parts ep = kk_epilogue_unpack (epilogue);
  const float *bias = ep.bias, *residual = ep.residual;
  gemm_args args = { .k = k, .lda = lda, .ldc = ldc, .ldr = ep.ldr, .has_bias = ep.has_bias,
                     .has_residual = ep.has_residual, .has_lo = ep.has_lo, .has_hi = ep.has_hi,
                     .lo = ep.lo, .hi = ep.hi };

  const size_t nv = (n + VL - 1) / VL;
  const size_t last_cols = n - (nv - 1) * VL;

  for (size_t g0 = 0; g0 < nv;)
    {
      size_t g1 = g0 + kk_gemm_block_vectors (nv - g0);
      while (g1 < nv)
        {
          size_t next = kk_gemm_block_vectors (nv - g1);
          if ((g1 + next - g0) * VL * k * sizeof (float) > KK_GEMM_L2_GROUP_BYTES)
            break;
          g1 += next;
        }

      for (size_t i = 0; i < m_count; i += TILE_ROWS)
        {
          size_t rows = m_count - i < TILE_ROWS ? m_count - i : TILE_ROWS;
          for (size_t v = g0; v < g1;)
            {
              size_t bv = kk_gemm_block_vectors (nv - v);
              size_t c0 = v * VL;
              size_t cols = v + bv == nv ? last_cols : VL;
              tiles[bv][rows] (&args, a + i * lda, packed_b + c0 * k, c + i * ldc + c0, cols,
                               bias != NULL ? bias + c0 : NULL,
                               residual != NULL ? residual + i * args.ldr + c0 : NULL);
              v += bv;
            }
        }
      g0 = g1;
    }

  kk_gemm_act_rows (ep.act, c, ldc, m_count, n, kk_sigmoid_f32_scalar, kk_silu_f32_scalar);
}
