/* gemm-avx512.c — AVX-512F gemm: the AVX2 design widened to zmm (16 floats
 * per vector) over the blocked packed B described in gemm.h.
 *
 * With 32 registers a tile holds 24 accumulators: 12 rows x 32 columns for
 * the 2-vector blocks, 8 x 48 for a 3-vector tail block; 12 x 16 when
 * n <= 16. Per k step a 12x32 tile does 24 FMAs against 2 B loads + 12
 * broadcasts, so neither the two FMA ports nor the two load ports of an
 * AVX-512 core are the bottleneck, and 24 chains hide the 4-cycle latency.
 * Rows go in strips of 24 (a multiple of 12 and 8) so a strip of A stays in
 * L1 while it visits every column block of an L2-sized group of B.
 *
 * The epilogue's activation (sigmoid, SiLU) runs in registers, on each
 * accumulator just before its store, with the eltwise family's polynomial
 * (exp-avx512.h), so C is written once.
 *
 * Edges use what AVX-512 has for them: columns past n in the last vector
 * are masked (zero-masked loads of bias and residual, masked store of C);
 * rows past m_count are never computed (one instantiation per row count).
 */
#include "gemm.h"
#include "eltwise/exp-avx512.h"

#include <immintrin.h>

#define VL 16

size_t
gemm_f32_packed_size_avx512 (size_t k, size_t n)
{
  return kk_gemm_blocked_packed_size (k, n, VL);
}

void
gemm_f32_pack_b_avx512 (const float *b, size_t k, size_t n, bool b_is_nk, float *packed)
{
  kk_gemm_blocked_pack_b (b, k, n, b_is_nk, packed, VL);
}

typedef struct {
  size_t k, lda, ldc, ldr;
  bool has_bias, has_residual, has_lo, has_hi;
  float lo, hi;
  kk_gemm_act act;
} gemm_args;

/* One tile; mr and nv are constants in each instantiation (see the AVX2
 * version). last_cols (1..16) is how many lanes of the last vector are
 * real. */
static inline __attribute__ ((always_inline)) void
gemm_tile_avx512 (const size_t mr, const size_t nv, const gemm_args *args,
                  const float *a, const float *b, float *c, size_t last_cols,
                  const float *bias, const float *res)
{
  const size_t k = args->k, lda = args->lda, ldc = args->ldc, ldr = args->ldr;
  const bool has_bias = args->has_bias, has_residual = args->has_residual;
  const bool has_lo = args->has_lo, has_hi = args->has_hi;
  const size_t w = nv * VL;
  __m512 acc[12][3];

#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      acc[r][v] = _mm512_setzero_ps ();

  for (size_t kk = 0; kk < k; kk++)
    {
      __m512 bv[3];
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        bv[v] = _mm512_loadu_ps (b + v * VL);
      b += w;
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        {
          __m512 ar = _mm512_set1_ps (a[r * lda + kk]);
#pragma GCC unroll 3
          for (size_t v = 0; v < nv; v++)
            acc[r][v] = _mm512_fmadd_ps (ar, bv[v], acc[r][v]);
        }
    }

  /* Epilogue in the reference's order, one pass per part so each flag is
   * tested once per tile rather than once per vector (see gemm-avx2.c).
   * Full vectors use an all-ones mask, the last one only its real lanes;
   * last_cols is 1..16, so the shift never reaches 32 bits. */
  const __mmask16 full = (__mmask16) 0xFFFF;
  const __mmask16 tail = (__mmask16) ((1u << last_cols) - 1u);

  if (has_bias)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      {
        __m512 bias_v = _mm512_maskz_loadu_ps (v == nv - 1 ? tail : full, bias + v * VL);
#pragma GCC unroll 12
        for (size_t r = 0; r < mr; r++)
          acc[r][v] = _mm512_add_ps (acc[r][v], bias_v);
      }
  if (has_residual)
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        acc[r][v] = _mm512_add_ps (acc[r][v], _mm512_maskz_loadu_ps (v == nv - 1 ? tail : full,
                                                                     res + r * ldr + v * VL));
  /* max/min return the second operand on NaN: the sum second keeps a NaN
   * sum NaN, as in the reference. */
  if (has_lo)
    {
      const __m512 lo = _mm512_set1_ps (args->lo);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          acc[r][v] = _mm512_max_ps (lo, acc[r][v]);
    }
  if (has_hi)
    {
      const __m512 hi = _mm512_set1_ps (args->hi);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          acc[r][v] = _mm512_min_ps (hi, acc[r][v]);
    }

  /* The activation in registers, each accumulator just before its store
   * (exp-avx512.h: the eltwise kernels' sigmoid, so the same bits as
   * sigmoid_f32 / silu_f32 over C after the call, at AVX-512 and AVX2). */
#define STORE_TILE(F)                                                                   \
  _Pragma ("GCC unroll 12") for (size_t r = 0; r < mr; r++)                            \
    _Pragma ("GCC unroll 3") for (size_t v = 0; v < nv; v++)                           \
      _mm512_mask_storeu_ps (c + r * ldc + v * VL, v == nv - 1 ? tail : full, F (acc[r][v]))
#define NO_ACT(x) (x)
  if (args->act == KK_GEMM_ACT_SILU)
    STORE_TILE (kk_silu_ps_avx512);
  else if (args->act == KK_GEMM_ACT_SIGMOID)
    STORE_TILE (kk_sigmoid_ps_avx512);
  else
    STORE_TILE (NO_ACT);
#undef NO_ACT
#undef STORE_TILE
}

typedef void (*gemm_tile_fn) (const gemm_args *args, const float *a, const float *b, float *c,
                              size_t last_cols, const float *bias, const float *res);

#define TILE(MR, NV)                                                                     \
  static void gemm_tile_##MR##x##NV##_avx512 (const gemm_args *args, const float *a,     \
                                              const float *b, float *c, size_t last_cols, \
                                              const float *bias, const float *res)        \
  {                                                                                      \
    gemm_tile_avx512 (MR, NV, args, a, b, c, last_cols, bias, res);                      \
  }

TILE (1, 1) TILE (2, 1) TILE (3, 1) TILE (4, 1) TILE (5, 1) TILE (6, 1)
TILE (7, 1) TILE (8, 1) TILE (9, 1) TILE (10, 1) TILE (11, 1) TILE (12, 1)
TILE (1, 2) TILE (2, 2) TILE (3, 2) TILE (4, 2) TILE (5, 2) TILE (6, 2)
TILE (7, 2) TILE (8, 2) TILE (9, 2) TILE (10, 2) TILE (11, 2) TILE (12, 2)
TILE (1, 3) TILE (2, 3) TILE (3, 3) TILE (4, 3) TILE (5, 3) TILE (6, 3)
TILE (7, 3) TILE (8, 3)

#undef TILE

static const size_t tile_rows[4] = { 0, 12, 12, 8 };
#define STRIP_ROWS 24

static const gemm_tile_fn tiles[4][13] = {
  [1] = { NULL, gemm_tile_1x1_avx512, gemm_tile_2x1_avx512, gemm_tile_3x1_avx512,
          gemm_tile_4x1_avx512, gemm_tile_5x1_avx512, gemm_tile_6x1_avx512,
          gemm_tile_7x1_avx512, gemm_tile_8x1_avx512, gemm_tile_9x1_avx512,
          gemm_tile_10x1_avx512, gemm_tile_11x1_avx512, gemm_tile_12x1_avx512 },
  [2] = { NULL, gemm_tile_1x2_avx512, gemm_tile_2x2_avx512, gemm_tile_3x2_avx512,
          gemm_tile_4x2_avx512, gemm_tile_5x2_avx512, gemm_tile_6x2_avx512,
          gemm_tile_7x2_avx512, gemm_tile_8x2_avx512, gemm_tile_9x2_avx512,
          gemm_tile_10x2_avx512, gemm_tile_11x2_avx512, gemm_tile_12x2_avx512 },
  [3] = { NULL, gemm_tile_1x3_avx512, gemm_tile_2x3_avx512, gemm_tile_3x3_avx512,
          gemm_tile_4x3_avx512, gemm_tile_5x3_avx512, gemm_tile_6x3_avx512,
          gemm_tile_7x3_avx512, gemm_tile_8x3_avx512 },
};

void
gemm_f32_avx512 (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                 const float *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue)
{
  if (m_count == 0 || n == 0)
    return;

  const kk_epilogue_parts ep = kk_epilogue_unpack (epilogue);
  const float *bias = ep.bias, *residual = ep.residual;
  gemm_args args = { .k = k, .lda = lda, .ldc = ldc, .ldr = ep.ldr, .has_bias = ep.has_bias,
                     .has_residual = ep.has_residual, .has_lo = ep.has_lo, .has_hi = ep.has_hi,
                     .lo = ep.lo, .hi = ep.hi, .act = ep.act };

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
}
