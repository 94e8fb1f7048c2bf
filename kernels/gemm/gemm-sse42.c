/* gemm-sse42.c — SSE4.2 gemm (no FMA): register-blocked micro-kernels over
 * the blocked packed B described in gemm.h (4 floats per vector).
 *
 * Without FMA every step is a multiply then an add, exactly as the
 * reference does, so with the same k order the sums round the same way.
 * Tiles: 4 rows x 8 columns for the 2-vector blocks (8 accumulators), 3 x 12
 * for a 3-vector tail block (9), 6 x 4 when n <= 4. Eight-odd independent
 * accumulators cover the add latency on both add pipes, and the 16 xmm
 * registers still hold the B vectors, the broadcast of A and one product.
 * Rows go in strips of 12 (a multiple of 6, 4 and 3) so a strip of A stays
 * in L1 while it visits every column block of an L2-sized group of B.
 *
 * Edges: columns past n are B's zero padding, computed and never stored
 * (bias/residual tails are read lane by lane, stores are a 2/1 cascade);
 * rows past m_count are never computed (one instantiation per row count).
 */
#include "gemm.h"

#include <nmmintrin.h>

#define VL 4

size_t
gemm_f32_packed_size_sse42 (size_t k, size_t n)
{
  return kk_gemm_blocked_packed_size (k, n, VL);
}

void
gemm_f32_pack_b_sse42 (const float *b, size_t k, size_t n, bool b_is_nk, float *packed)
{
  kk_gemm_blocked_pack_b (b, k, n, b_is_nk, packed, VL);
}

typedef struct {
  size_t k, lda, ldc, ldr;
  bool has_bias, has_residual, has_lo, has_hi;
  float lo, hi;
} gemm_args;

/* The first cols (1..3) floats at p, zeros above: never reads past them. */
static inline __m128
load_partial (const float *p, size_t cols)
{
  __m128 x = _mm_load_ss (p);
  if (cols >= 2)
    x = _mm_insert_ps (x, _mm_load_ss (p + 1), 0x10);
  if (cols >= 3)
    x = _mm_insert_ps (x, _mm_load_ss (p + 2), 0x20);
  return x;
}

/* Stores the first cols (1..3) lanes of x. */
static inline void
store_partial (float *p, __m128 x, size_t cols)
{
  if (cols & 2)
    {
      _mm_storel_pi ((__m64 *) p, x);
      x = _mm_movehl_ps (x, x);
      p += 2;
    }
  if (cols & 1)
    _mm_store_ss (p, x);
}

/* One tile; mr and nv are constants in each instantiation (see the AVX2
 * version for the shape of the arguments). */
static inline __attribute__ ((always_inline)) void
gemm_tile_sse42 (const size_t mr, const size_t nv, const gemm_args *args,
                 const float *a, const float *b, float *c, size_t last_cols,
                 const float *bias, const float *res)
{
  const size_t k = args->k, lda = args->lda, ldc = args->ldc, ldr = args->ldr;
  const bool has_bias = args->has_bias, has_residual = args->has_residual;
  const bool has_lo = args->has_lo, has_hi = args->has_hi;
  const size_t w = nv * VL;
  __m128 acc[6][3];

#pragma GCC unroll 6
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      acc[r][v] = _mm_setzero_ps ();

  for (size_t kk = 0; kk < k; kk++)
    {
      __m128 bv[3];
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        bv[v] = _mm_loadu_ps (b + v * VL);
      b += w;
#pragma GCC unroll 6
      for (size_t r = 0; r < mr; r++)
        {
          __m128 ar = _mm_set1_ps (a[r * lda + kk]);
#pragma GCC unroll 3
          for (size_t v = 0; v < nv; v++)
            acc[r][v] = _mm_add_ps (acc[r][v], _mm_mul_ps (ar, bv[v]));
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
        __m128 bias_v = partial ? load_partial (bias + v * VL, last_cols) : _mm_loadu_ps (bias + v * VL);
#pragma GCC unroll 6
        for (size_t r = 0; r < mr; r++)
          acc[r][v] = _mm_add_ps (acc[r][v], bias_v);
      }
  if (has_residual)
#pragma GCC unroll 6
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        {
          const bool partial = tail && v == nv - 1;
          const float *rp = res + r * ldr + v * VL;
          acc[r][v] = _mm_add_ps (acc[r][v], partial ? load_partial (rp, last_cols) : _mm_loadu_ps (rp));
        }
  /* maxps/minps return the second operand on NaN: keep the sum second so a
   * NaN sum stays NaN, as in the reference. */
  if (has_lo)
    {
      const __m128 lo = _mm_set1_ps (args->lo);
#pragma GCC unroll 6
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          acc[r][v] = _mm_max_ps (lo, acc[r][v]);
    }
  if (has_hi)
    {
      const __m128 hi = _mm_set1_ps (args->hi);
#pragma GCC unroll 6
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          acc[r][v] = _mm_min_ps (hi, acc[r][v]);
    }

#pragma GCC unroll 6
  for (size_t r = 0; r < mr; r++)
    {
#pragma GCC unroll 3
      for (size_t v = 0; v + 1 < nv; v++)
        _mm_storeu_ps (c + r * ldc + v * VL, acc[r][v]);
      if (!tail)
        _mm_storeu_ps (c + r * ldc + (nv - 1) * VL, acc[r][nv - 1]);
      else
        store_partial (c + r * ldc + (nv - 1) * VL, acc[r][nv - 1], last_cols);
    }
}

typedef void (*gemm_tile_fn) (const gemm_args *args, const float *a, const float *b, float *c,
                              size_t last_cols, const float *bias, const float *res);

#define TILE(MR, NV)                                                                    \
  static void gemm_tile_##MR##x##NV##_sse42 (const gemm_args *args, const float *a,     \
                                             const float *b, float *c, size_t last_cols, \
                                             const float *bias, const float *res)        \
  {                                                                                     \
    gemm_tile_sse42 (MR, NV, args, a, b, c, last_cols, bias, res);                      \
  }

TILE (1, 1) TILE (2, 1) TILE (3, 1) TILE (4, 1) TILE (5, 1) TILE (6, 1)
TILE (1, 2) TILE (2, 2) TILE (3, 2) TILE (4, 2)
TILE (1, 3) TILE (2, 3) TILE (3, 3)

#undef TILE

static const size_t tile_rows[4] = { 0, 6, 4, 3 };
#define STRIP_ROWS 12

static const gemm_tile_fn tiles[4][7] = {
  [1] = { NULL, gemm_tile_1x1_sse42, gemm_tile_2x1_sse42, gemm_tile_3x1_sse42, gemm_tile_4x1_sse42,
          gemm_tile_5x1_sse42, gemm_tile_6x1_sse42 },
  [2] = { NULL, gemm_tile_1x2_sse42, gemm_tile_2x2_sse42, gemm_tile_3x2_sse42, gemm_tile_4x2_sse42 },
  [3] = { NULL, gemm_tile_1x3_sse42, gemm_tile_2x3_sse42, gemm_tile_3x3_sse42 },
};

void
gemm_f32_sse42 (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
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

      for (size_t i0 = 0; i0 < m_count; i0 += STRIP_ROWS)
        {
          size_t strip = m_count - i0 < STRIP_ROWS ? m_count - i0 : STRIP_ROWS;
          for (size_t v = g0; v < g1;)
            {
              size_t bv = kk_gemm_block_vectors (nv - v);
              size_t c0 = v * VL;
              size_t cols = v + bv == nv ? last_cols : VL;
              const float *bp = packed_b + c0 * k;
              size_t mr = tile_rows[bv];
              for (size_t i = i0; i < i0 + strip; i += mr)
                {
                  size_t rows = i0 + strip - i < mr ? i0 + strip - i : mr;
                  tiles[bv][rows] (&args, a + i * lda, bp, c + i * ldc + c0, cols,
                                   bias != NULL ? bias + c0 : NULL,
                                   residual != NULL ? residual + i * args.ldr + c0 : NULL);
                }
              v += bv;
            }
        }
      g0 = g1;
    }

  kk_gemm_act_rows (ep.act, c, ldc, m_count, n, kk_sigmoid_f32_scalar, kk_silu_f32_scalar);
}
