/* gemm-avx2.c — AVX2 + FMA gemm: register-blocked micro-kernels over the
 * blocked packed B described in gemm.h (8 floats per vector).
 *
 * Tiles hold 12 ymm accumulators: 6 rows x 16 columns for the 2-vector
 * blocks, 4 x 24 for a 3-vector tail block, 12 x 8 when n <= 8. Zen 3 and
 * recent Intel cores retire two FMAs a cycle with a 4-cycle latency, so at
 * least 8 independent accumulators are needed to keep both pipes busy; 12
 * leaves room for the B vectors and one broadcast of A in the 16 registers.
 * Per k step a 6x16 tile does 12 FMAs against 2 B loads + 6 broadcasts,
 * within the two-to-three loads a cycle these cores sustain.
 *
 * Rows are walked in strips of 12 (a multiple of every tile height) and each
 * strip visits all column blocks of an L2-sized group, so the strip of A
 * stays in L1 while the group's packed B stays in L2.
 *
 * Edges: columns past n in the last vector come from B's zero padding and
 * are computed but never stored (bias and residual are read with masked
 * loads, C is written by a 4/2/1 cascade: vmaskmovps stores are slow on AMD
 * cores); rows past
 * m_count are not computed at all (one tile instantiation per row count).
 *
 * The epilogue's activation (sigmoid, SiLU) runs on the accumulators
 * before the store, with the eltwise family's polynomial (exp-avx2.h).
 *
 * The caller's row split (threads) needs nothing from this file: tiles only
 * read A, B, bias and residual and write their own cells of C, and a
 * residual that is C itself is read before the same cell is stored.
 */
#include "gemm.h"
#include "eltwise/exp-avx2.h"

#include <immintrin.h>

#define VL 8

size_t
gemm_f32_packed_size_avx2 (size_t k, size_t n)
{
  return kk_gemm_blocked_packed_size (k, n, VL);
}

void
gemm_f32_pack_b_avx2 (const float *b, size_t k, size_t n, bool b_is_nk, float *packed)
{
  kk_gemm_blocked_pack_b (b, k, n, b_is_nk, packed, VL);
}

/* What every tile of one call shares. */
typedef struct {
  size_t k, lda, ldc, ldr;
  bool has_bias, has_residual, has_lo, has_hi;
  float lo, hi;
  kk_gemm_act act;
} gemm_args;

/* -1 lanes then 0 lanes: loading 8 ints at tail_mask_src + 8 - cols gives a
 * mask of the first `cols` lanes. */
static const int32_t tail_mask_src[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

/* Stores the first cols (1..7) lanes of v. */
static inline void
store_partial (float *p, __m256 v, size_t cols)
{
  __m128 x = _mm256_castps256_ps128 (v);
  if (cols & 4)
    {
      _mm_storeu_ps (p, x);
      x = _mm256_extractf128_ps (v, 1);
      p += 4;
    }
  if (cols & 2)
    {
      _mm_storel_pi ((__m64 *) p, x);
      x = _mm_movehl_ps (x, x);
      p += 2;
    }
  if (cols & 1)
    _mm_store_ss (p, x);
}

/* One tile: rows [0, mr) of a, the nv-vector block at b, into c. mr and nv
 * are compile-time constants in every instantiation below, so the loops
 * unroll and the accumulator array lives in registers. last_cols (1..8) is
 * how many columns of the block's last vector are real. bias and res are
 * already offset to the tile (NULL when absent). */
static inline __attribute__ ((always_inline)) void
gemm_tile_avx2 (const size_t mr, const size_t nv, const gemm_args *args,
                const float *a, const float *b, float *c, size_t last_cols,
                const float *bias, const float *res)
{
  /* Copied to locals: the stores to c could alias *args as far as the
   * compiler knows, which would make it reload every flag per vector. */
  const size_t k = args->k, lda = args->lda, ldc = args->ldc, ldr = args->ldr;
  const bool has_bias = args->has_bias, has_residual = args->has_residual;
  const bool has_lo = args->has_lo, has_hi = args->has_hi;
  const size_t w = nv * VL;
  __m256 acc[12][3];

  /* The accumulators start from bias + residual rather than having them
   * added after the k loop: with k as small as BlazeFace's 24 the tile's
   * fixed cost is a quarter of its time, and this takes the two additions
   * off the dependency chain at its end (the loads are issued early, under
   * the FMAs). The sum is the same up to rounding, which the contract allows
   * (the reference adds them last). */
  const bool tail = last_cols < VL;
  const __m256i mask = _mm256_loadu_si256 ((const __m256i *) (tail_mask_src + VL - last_cols));
#define LOAD_COLS(p, v) (tail && (v) == nv - 1 ? _mm256_maskload_ps ((p), mask) : _mm256_loadu_ps (p))

  /* One pass per part, so that a tile tests each flag once: a test per
   * vector would cost ~50 taken branches per tile, as much as a third of
   * the FMA time when k is 24. */
#pragma GCC unroll 3
  for (size_t v = 0; v < nv; v++)
    {
      const __m256 bias_v = has_bias ? LOAD_COLS (bias + v * VL, v) : _mm256_setzero_ps ();
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        acc[r][v] = bias_v;
    }
  if (has_residual)
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        acc[r][v] = _mm256_add_ps (acc[r][v], LOAD_COLS (res + r * ldr + v * VL, v));
#undef LOAD_COLS

  for (size_t kk = 0; kk < k; kk++)
    {
      __m256 bv[3];
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        bv[v] = _mm256_loadu_ps (b + v * VL);
      b += w;
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        {
          __m256 ar = _mm256_broadcast_ss (a + r * lda + kk);
#pragma GCC unroll 3
          for (size_t v = 0; v < nv; v++)
            acc[r][v] = _mm256_fmadd_ps (ar, bv[v], acc[r][v]);
        }
    }

  /* max/min return their second operand when either is NaN: with the sum
   * second, a NaN sum stays NaN as in the reference. */
  if (has_lo)
    {
      const __m256 lo = _mm256_set1_ps (args->lo);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          acc[r][v] = _mm256_max_ps (lo, acc[r][v]);
    }
  if (has_hi)
    {
      const __m256 hi = _mm256_set1_ps (args->hi);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          acc[r][v] = _mm256_min_ps (hi, acc[r][v]);
    }

  /* The activation in registers (exp-avx2.h: the eltwise kernels'
   * sigmoid, so the same bits as sigmoid_f32 / silu_f32 over C after the
   * call), so C is written once. */
  if (args->act == KK_GEMM_ACT_SILU)
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        acc[r][v] = kk_silu_ps_avx2 (acc[r][v]);
  else if (args->act == KK_GEMM_ACT_SIGMOID)
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        acc[r][v] = kk_sigmoid_ps_avx2 (acc[r][v]);

  if (!tail)
    {
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          _mm256_storeu_ps (c + r * ldc + v * VL, acc[r][v]);
    }
  else
    {
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        {
#pragma GCC unroll 3
          for (size_t v = 0; v + 1 < nv; v++)
            _mm256_storeu_ps (c + r * ldc + v * VL, acc[r][v]);
          store_partial (c + r * ldc + (nv - 1) * VL, acc[r][nv - 1], last_cols);
        }
    }
}

typedef void (*gemm_tile_fn) (const gemm_args *args, const float *a, const float *b, float *c,
                              size_t last_cols, const float *bias, const float *res);

#define TILE(MR, NV)                                                                   \
  static void gemm_tile_##MR##x##NV##_avx2 (const gemm_args *args, const float *a,     \
                                            const float *b, float *c, size_t last_cols, \
                                            const float *bias, const float *res)        \
  {                                                                                    \
    gemm_tile_avx2 (MR, NV, args, a, b, c, last_cols, bias, res);                      \
  }

TILE (1, 1) TILE (2, 1) TILE (3, 1) TILE (4, 1) TILE (5, 1) TILE (6, 1)
TILE (7, 1) TILE (8, 1) TILE (9, 1) TILE (10, 1) TILE (11, 1) TILE (12, 1)
TILE (1, 2) TILE (2, 2) TILE (3, 2) TILE (4, 2) TILE (5, 2) TILE (6, 2)
TILE (1, 3) TILE (2, 3) TILE (3, 3) TILE (4, 3)

#undef TILE

/* Tile height per block width in vectors, and the tiles by [vectors][rows]. */
static const size_t tile_rows[4] = { 0, 12, 6, 4 };
#define STRIP_ROWS 12

static const gemm_tile_fn tiles[4][13] = {
  [1] = { NULL, gemm_tile_1x1_avx2, gemm_tile_2x1_avx2, gemm_tile_3x1_avx2, gemm_tile_4x1_avx2,
          gemm_tile_5x1_avx2, gemm_tile_6x1_avx2, gemm_tile_7x1_avx2, gemm_tile_8x1_avx2,
          gemm_tile_9x1_avx2, gemm_tile_10x1_avx2, gemm_tile_11x1_avx2, gemm_tile_12x1_avx2 },
  [2] = { NULL, gemm_tile_1x2_avx2, gemm_tile_2x2_avx2, gemm_tile_3x2_avx2, gemm_tile_4x2_avx2,
          gemm_tile_5x2_avx2, gemm_tile_6x2_avx2 },
  [3] = { NULL, gemm_tile_1x3_avx2, gemm_tile_2x3_avx2, gemm_tile_3x3_avx2, gemm_tile_4x3_avx2 },
};

void
gemm_f32_avx2 (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
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
      /* Grow the group block by block while its packed B fits the budget;
       * a group always holds at least one block. */
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
