/* gemm-f16-driver.h — the gemm with FP16 weights, for every SIMD version.
 *
 * Included by gemm-f16-<isa>.c after it defines its vector operations, so
 * all of it is compiled with that version's flags:
 *
 *   VL                      floats per vector; kk_vec the vector type
 *   VZERO() VLOAD(p) VSTORE(p, v) VBCAST(p) VADD(a, b) VSET1(x)
 *   VFMA(acc, a, b)         acc + a * b with one rounding (fused)
 *   VCLAMP_LO(lo, x)        x < lo ? lo : x, lane by lane (NaN and -0 kept)
 *   VCLAMP_HI(hi, x)        x > hi ? hi : x
 *   widen(src, dst, n)      n halves (a multiple of VL) to floats, exactly
 *   TILE_ROWS_1/2/3         tile height for blocks of 1, 2 and 3 vectors
 *   STRIP_ROWS              rows of A per strip (a multiple of each height)
 *   F16_ISA                 the suffix of the entry points
 * and, where partial vectors are cheap (AVX-512's opmasks):
 *   VLOAD_PART(p, n) VSTORE_PART(p, v, n)   the first n < VL lanes only
 * with which a block's last vector whose columns end past n finishes in
 * vector code; without them it goes through the scalar epilogue (the same
 * operations). BlazeFace's channel counts (24, 28, 36, 42...) are mostly
 * not multiples of 16, so at AVX-512 that scalar epilogue was a fifth of
 * the time of its small-k layers.
 *
 * B is packed in the FP32 versions' blocked layout (gemm.h) with halves
 * instead of floats. A call walks B a group of column blocks at a time;
 * each group is widened to floats once into a stack buffer (WIDE_FLOATS,
 * 32 KiB: the tile of B stays in L1/L2) and then every strip of rows of A
 * runs the register-blocked tiles over it, as the FP32 kernels do over
 * their packed B. The conversion costs k * n / VL vector conversions per
 * call against m * k * n / VL multiply-adds, so it vanishes for all but
 * the smallest m.
 *
 * Why the results are the reference's to the bit: every result is one sum
 * in one lane, started at +0, fed its products in k order by fused
 * multiply-adds (one rounding each, as the reference's fmaf), then bias,
 * residual and the clamp in the reference's order with the same
 * comparisons. A fused multiply-add and an add are correctly rounded IEEE
 * operations, the same in a SIMD lane as in libm's fmaf, so the lanes
 * compute exactly the reference's values. (A separate multiply and add
 * would be exact too, but costs a third more instructions per step than
 * the FP32 kernels: measured 1.18x their time on Zen 3, where FMA keeps
 * FP16 at the FP32 kernels' speed.)
 *
 * When k is so deep that one block of B does not fit the buffer
 * (k > WIDE_FLOATS / (3 * VL)), k is cut into chunks and rows into panels
 * of PANEL_ROWS: a tile stores its running sums in a stack array after each
 * chunk but the last and reloads them (float stores are exact), so the sum
 * is still taken in k order. C is only written at the end: it may be the
 * residual (in place).
 */
#pragma once

#define F16_CAT2(a, b) a##_##b
#define F16_CAT(a, b) F16_CAT2 (a, b)
#define F16_FN(name) F16_CAT (name, F16_ISA)

#ifdef VLOAD_PART
#define F16_VECTOR_TAIL true
#else
#define F16_VECTOR_TAIL false
#define VLOAD_PART(p, n) VZERO ()
#define VSTORE_PART(p, v, n) ((void) 0)
#endif

#define WIDE_FLOATS 8192
#define PANEL_ROWS 48
#define BLOCK_MAX (3 * VL)

size_t
F16_FN (gemm_f16_packed_size) (size_t k, size_t n)
{
  return kk_gemm_blocked_packed_size (k, n, VL);
}

void
F16_FN (gemm_f16_pack_b) (const float *b, size_t k, size_t n, bool b_is_nk, uint16_t *packed)
{
  kk_gemm_blocked_pack_b_f16 (b, k, n, b_is_nk, packed, VL);
}

typedef struct {
  size_t lda, ldc, ldr;
  bool has_bias, has_residual, has_lo, has_hi;
  float lo, hi;
} f16_args;

/* One tile: rows [0, mr) of a (already at column k0), the widened block b
 * ([kc][nv * VL]), into c. part: this tile's running sums (row stride
 * BLOCK_MAX), read unless `first`, written unless `last`; only `last`
 * applies the epilogue and writes C. mr and nv are constants in each
 * instantiation, so the loops unroll and acc lives in registers. */
static inline __attribute__ ((always_inline)) void
f16_tile (const size_t mr, const size_t nv, const f16_args *args, const float *a,
          const float *b, size_t kc, float *part, bool first, bool last, float *c,
          size_t last_cols, const float *bias, const float *res)
{
  const size_t lda = args->lda, ldc = args->ldc, ldr = args->ldr;
  const size_t w = nv * VL;
  kk_vec acc[12][3];

#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      acc[r][v] = first ? VZERO () : VLOAD (part + r * BLOCK_MAX + v * VL);

  for (size_t kk = 0; kk < kc; kk++)
    {
      kk_vec bv[3];
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        bv[v] = VLOAD (b + v * VL);
      b += w;
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        {
          const kk_vec ar = VBCAST (a + r * lda + kk);
#pragma GCC unroll 3
          for (size_t v = 0; v < nv; v++)
            acc[r][v] = VFMA (acc[r][v], ar, bv[v]);
        }
    }

  if (!last)
    {
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          VSTORE (part + r * BLOCK_MAX + v * VL, acc[r][v]);
      return;
    }

  /* Copied to locals: stores to c could alias *args for all the compiler
   * knows. One pass per part so each flag is tested once per tile. The
   * last vector of a block whose last columns are past n goes through the
   * scalar epilogue below instead (the same operations). */
  const bool has_bias = args->has_bias, has_residual = args->has_residual;
  const bool has_lo = args->has_lo, has_hi = args->has_hi;
  const bool vtail = last_cols < VL && F16_VECTOR_TAIL;  /* the last vector in vector code */
  const bool tail = last_cols < VL && !F16_VECTOR_TAIL; /* the last vector in scalar code */
#define F16_LOAD(p, v) (vtail && (v) == nv - 1 ? VLOAD_PART ((p), last_cols) : VLOAD (p))
  if (has_bias)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      if (!(tail && v == nv - 1))
        {
          const kk_vec bias_v = F16_LOAD (bias + v * VL, v);
#pragma GCC unroll 12
          for (size_t r = 0; r < mr; r++)
            acc[r][v] = VADD (acc[r][v], bias_v);
        }
  if (has_residual)
#pragma GCC unroll 12
    for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
      for (size_t v = 0; v < nv; v++)
        if (!(tail && v == nv - 1))
          acc[r][v] = VADD (acc[r][v], F16_LOAD (res + r * ldr + v * VL, v));
  if (has_lo)
    {
      const kk_vec lo = VSET1 (args->lo);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          if (!(tail && v == nv - 1))
            acc[r][v] = VCLAMP_LO (lo, acc[r][v]);
    }
  if (has_hi)
    {
      const kk_vec hi = VSET1 (args->hi);
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
        for (size_t v = 0; v < nv; v++)
          if (!(tail && v == nv - 1))
            acc[r][v] = VCLAMP_HI (hi, acc[r][v]);
    }
#pragma GCC unroll 12
  for (size_t r = 0; r < mr; r++)
#pragma GCC unroll 3
    for (size_t v = 0; v < nv; v++)
      if (vtail && v == nv - 1)
        VSTORE_PART (c + r * ldc + v * VL, acc[r][v], last_cols);
      else if (!(tail && v == nv - 1))
        VSTORE (c + r * ldc + v * VL, acc[r][v]);
#undef F16_LOAD

  if (tail)
    {
      /* The last vector's raw sums, finished as the reference does. */
      const size_t c0 = (nv - 1) * VL;
      const float lo = args->lo, hi = args->hi;
#pragma GCC unroll 12
      for (size_t r = 0; r < mr; r++)
        {
          float sums[VL];
          VSTORE (sums, acc[r][nv - 1]);
          for (size_t j = 0; j < last_cols; j++)
            {
              float x = sums[j];
              if (has_bias)
                x = x + bias[c0 + j];
              if (has_residual)
                x = x + res[r * ldr + c0 + j];
              if (x < lo)
                x = lo;
              if (x > hi)
                x = hi;
              c[r * ldc + c0 + j] = x;
            }
        }
    }
}

typedef void (*f16_tile_fn) (const f16_args *args, const float *a, const float *b, size_t kc,
                             float *part, bool first, bool last, float *c, size_t last_cols,
                             const float *bias, const float *res);

#define F16_TILE(MR, NV)                                                                          \
  static void f16_tile_##MR##x##NV (const f16_args *args, const float *a, const float *b,        \
                                    size_t kc, float *part, bool first, bool last, float *c,     \
                                    size_t last_cols, const float *bias, const float *res)       \
  {                                                                                               \
    f16_tile (MR, NV, args, a, b, kc, part, first, last, c, last_cols, bias, res);               \
  }

#define F16_TILES(NV)                                                                             \
  F16_TILE (1, NV) F16_TILE (2, NV) F16_TILE (3, NV) F16_TILE (4, NV) F16_TILE (5, NV)            \
  F16_TILE (6, NV) F16_TILE (7, NV) F16_TILE (8, NV)
F16_TILES (1)
F16_TILES (2)
F16_TILES (3)
F16_TILE (9, 1) F16_TILE (10, 1) F16_TILE (11, 1) F16_TILE (12, 1)
F16_TILE (9, 2) F16_TILE (10, 2) F16_TILE (11, 2) F16_TILE (12, 2)

#undef F16_TILES
#undef F16_TILE

#define F16_ROW8(NV)                                                                              \
  NULL, f16_tile_1x##NV, f16_tile_2x##NV, f16_tile_3x##NV, f16_tile_4x##NV, f16_tile_5x##NV,     \
    f16_tile_6x##NV, f16_tile_7x##NV, f16_tile_8x##NV

/* By [vectors][rows]: heights up to 12 for 1- and 2-vector blocks, 8 for 3. */
static const f16_tile_fn f16_tiles[4][13] = {
  [1] = { F16_ROW8 (1), f16_tile_9x1, f16_tile_10x1, f16_tile_11x1, f16_tile_12x1 },
  [2] = { F16_ROW8 (2), f16_tile_9x2, f16_tile_10x2, f16_tile_11x2, f16_tile_12x2 },
  [3] = { F16_ROW8 (3) },
};
#undef F16_ROW8

static const size_t f16_tile_rows[4] = { 0, TILE_ROWS_1, TILE_ROWS_2, TILE_ROWS_3 };

_Static_assert (TILE_ROWS_1 <= 12 && TILE_ROWS_2 <= 12 && TILE_ROWS_3 <= 8, "tile heights");
_Static_assert (STRIP_ROWS % TILE_ROWS_1 == 0 && STRIP_ROWS % TILE_ROWS_2 == 0
                && STRIP_ROWS % TILE_ROWS_3 == 0 && PANEL_ROWS % STRIP_ROWS == 0,
                "strips of whole tiles, panels of whole strips");

void
F16_FN (gemm_f16) (size_t m_count, size_t n, size_t k, const float *a, size_t lda,
                   const uint16_t *packed_b, float *c, size_t ldc, const kk_gemm_epilogue *epilogue)
{
  if (m_count == 0 || n == 0)
    return;

  const kk_epilogue_parts ep = kk_epilogue_unpack (epilogue);
  const float *bias = ep.bias, *residual = ep.residual;
  f16_args args = { .lda = lda, .ldc = ldc, .ldr = ep.ldr, .has_bias = ep.has_bias,
                    .has_residual = ep.has_residual, .has_lo = ep.has_lo, .has_hi = ep.has_hi,
                    .lo = ep.lo, .hi = ep.hi };

  _Alignas (64) float wide[WIDE_FLOATS];
  _Alignas (64) float part[PANEL_ROWS * BLOCK_MAX];
  const size_t nv = (n + VL - 1) / VL;
  const size_t last_cols = n - (nv - 1) * VL;
  const size_t k_whole = WIDE_FLOATS / BLOCK_MAX;
  const bool chunked = k > k_whole;
  const size_t kc = chunked ? k_whole : k;
  const size_t panel = chunked ? PANEL_ROWS : m_count;

  for (size_t g0 = 0; g0 < nv;)
    {
      /* A chunked call takes one block at a time; otherwise the group grows
       * while its widened B fits the buffer. */
      size_t g1 = g0 + kk_gemm_block_vectors (nv - g0);
      while (!chunked && g1 < nv)
        {
          size_t next = kk_gemm_block_vectors (nv - g1);
          if ((g1 + next - g0) * VL * k > WIDE_FLOATS)
            break;
          g1 += next;
        }

      for (size_t p0 = 0; p0 < m_count; p0 += panel)
        {
          const size_t p1 = m_count - p0 < panel ? m_count : p0 + panel;
          size_t k0 = 0;
          do
            {
              const size_t kn = k - k0 < kc ? k - k0 : kc;
              const bool first = k0 == 0, last = k0 + kn == k;

              float *dst = wide;
              for (size_t v = g0; v < g1;)
                {
                  size_t w = kk_gemm_block_vectors (nv - v) * VL;
                  widen (packed_b + v * VL * k + k0 * w, dst, kn * w);
                  dst += kn * w;
                  v += w / VL;
                }

              for (size_t i0 = p0; i0 < p1; i0 += STRIP_ROWS)
                {
                  const size_t strip = p1 - i0 < STRIP_ROWS ? p1 - i0 : STRIP_ROWS;
                  const float *bw = wide;
                  for (size_t v = g0; v < g1;)
                    {
                      const size_t bv = kk_gemm_block_vectors (nv - v);
                      const size_t c0 = v * VL;
                      const size_t cols = v + bv == nv ? last_cols : VL;
                      const size_t mr = f16_tile_rows[bv];
                      for (size_t i = i0; i < i0 + strip; i += mr)
                        {
                          size_t rows = i0 + strip - i < mr ? i0 + strip - i : mr;
                          f16_tiles[bv][rows] (&args, a + i * lda + k0, bw, kn,
                                               part + (i - p0) * BLOCK_MAX, first, last,
                                               c + i * ldc + c0, cols,
                                               bias != NULL ? bias + c0 : NULL,
                                               residual != NULL ? residual + i * args.ldr + c0 : NULL);
                        }
                      bw += kn * bv * VL;
                      v += bv;
                    }
                }
              k0 += kn;
            }
          while (k0 < k);
        }
      g0 = g1;
    }
}
