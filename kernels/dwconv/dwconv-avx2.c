/* dwconv-avx2.c — depthwise convolution, 8 channels per ymm: with FMA,
 * and an exact version for the integer plans' float steps.
 *
 * See dwconv.h for the plan. Channel counts that are not a multiple of 8
 * (BlazeFace has 28, 36 and 42) finish with a block that overlaps the
 * previous one: it recomputes a few channels with exactly the same
 * operations, so they come out bit-identical, and it avoids VMASKMOVPS
 * stores, which are slow on AMD. Only C < 8 needs masks.
 *
 * Every function also takes a compile-time `exact`, as in dwconv-avx512.c.
 * kk_dwconv_f32_nhwc_exact_avx2 sets it: each lane then does what the
 * scalar reference does — the bias (or +0), one rounded multiply and one
 * rounded add per in-bounds tap in (ky, kx) order in a single chain, then
 * the clamp — so it gives the reference's bits (kk_kernels_get_exact). A
 * tap outside the input is skipped, never added as a zero product: that
 * would turn a -0 sum into +0. The FMA version splits a 3x3 window into
 * one partial sum per kernel row instead, which is faster and rounds
 * differently.
 */
#include "dwconv.h"

#include <immintrin.h>
#include <math.h>

#define KK_ALWAYS_INLINE static inline __attribute__ ((always_inline))

/* A sliding window over this gives the lane mask of the first r lanes. */
static const int32_t tail_table[16] = { -1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0 };

KK_ALWAYS_INLINE __m256
clamp_ps (__m256 v, __m256 lo, __m256 hi)
{
  return _mm256_max_ps (lo, _mm256_min_ps (hi, v));
}

/* a + x * w: one fused multiply-add, or with `exact` the reference's
 * rounded multiply, then rounded add. */
KK_ALWAYS_INLINE __m256
madd_ps (__m256 a, __m256 x, __m256 w, bool exact)
{
  return exact ? _mm256_add_ps (a, _mm256_mul_ps (x, w)) : _mm256_fmadd_ps (x, w, a);
}

/* Channels [c, c + 32) of one pixel: four independent chains. */
KK_ALWAYS_INLINE void
pixel_block4 (const kk_dwconv_taps *t, size_t C, size_t c, const float *bias,
              __m256 vlo, __m256 vhi, float *o, bool exact)
{
  __m256 a0, a1, a2, a3;

  if (bias != NULL)
    {
      a0 = _mm256_loadu_ps (bias + c);
      a1 = _mm256_loadu_ps (bias + c + 8);
      a2 = _mm256_loadu_ps (bias + c + 16);
      a3 = _mm256_loadu_ps (bias + c + 24);
    }
  else
    a0 = a1 = a2 = a3 = _mm256_setzero_ps ();

  const float *xr = t->x + c, *wr = t->w + c;
  for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
    {
      const float *x = xr, *w = wr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
        {
          a0 = madd_ps (a0, _mm256_loadu_ps (x), _mm256_loadu_ps (w), exact);
          a1 = madd_ps (a1, _mm256_loadu_ps (x + 8), _mm256_loadu_ps (w + 8), exact);
          a2 = madd_ps (a2, _mm256_loadu_ps (x + 16), _mm256_loadu_ps (w + 16), exact);
          a3 = madd_ps (a3, _mm256_loadu_ps (x + 24), _mm256_loadu_ps (w + 24), exact);
        }
    }
  _mm256_storeu_ps (o + c, clamp_ps (a0, vlo, vhi));
  _mm256_storeu_ps (o + c + 8, clamp_ps (a1, vlo, vhi));
  _mm256_storeu_ps (o + c + 16, clamp_ps (a2, vlo, vhi));
  _mm256_storeu_ps (o + c + 24, clamp_ps (a3, vlo, vhi));
}

/* Channels [c, c + 8) of one pixel; with `masked`, only the lanes in m exist
 * (masked-off lanes are neither read nor written). */
KK_ALWAYS_INLINE void
pixel_block1 (const kk_dwconv_taps *t, size_t C, size_t c, const float *bias,
              __m256 vlo, __m256 vhi, float *o, bool masked, __m256i m, bool exact)
{
#define LOAD(ptr) (masked ? _mm256_maskload_ps ((ptr), m) : _mm256_loadu_ps (ptr))
  __m256 a = bias != NULL ? LOAD (bias + c) : _mm256_setzero_ps ();

  const float *xr = t->x + c, *wr = t->w + c;
  for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
    {
      const float *x = xr, *w = wr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
        a = madd_ps (a, LOAD (x), LOAD (w), exact);
    }
  a = clamp_ps (a, vlo, vhi);
  if (masked)
    _mm256_maskstore_ps (o + c, m, a);
  else
    _mm256_storeu_ps (o + c, a);
#undef LOAD
}

/* Output columns [ox_begin, ox_end) of a row, any kernel: bounds are worked
 * out once per pixel, never per tap. */
KK_ALWAYS_INLINE void
dw_pixels (const kk_dwconv_params *p, const kk_dwconv_row *row, size_t ox_begin, size_t ox_end,
           bool exact)
{
  const size_t C = p->channels;
  const __m256 vlo = _mm256_set1_ps (p->lo), vhi = _mm256_set1_ps (p->hi);
  const __m256i all = _mm256_set1_epi32 (-1);

  for (size_t ox = ox_begin; ox < ox_end; ox++)
    {
      const kk_dwconv_taps t = kk_dwconv_pixel_taps (p, row, ox);
      float *o = row->out_row + ox * C;
      size_t c = 0;

      if (C < 8)
        {
          const __m256i m = _mm256_loadu_si256 ((const __m256i *) (tail_table + 8 - C));
          pixel_block1 (&t, C, 0, p->bias, vlo, vhi, o, true, m, exact);
          continue;
        }
      for (; c + 32 <= C; c += 32)
        pixel_block4 (&t, C, c, p->bias, vlo, vhi, o, exact);
      for (; c + 8 <= C; c += 8)
        pixel_block1 (&t, C, c, p->bias, vlo, vhi, o, false, all, exact);
      if (c < C)
        pixel_block1 (&t, C, C - 8, p->bias, vlo, vhi, o, false, all, exact);
    }
}

/* One output vector of a 3x3 window whose kernel rows start at x0..x2
 * (h0..h2: which of them are inside the input). One partial sum per kernel
 * row, the first seeded with the bias and the others with a plain product,
 * added as a0 + (a1 + a2): the longest chain is three FMAs and two adds, so
 * the loop below is bound by its loads and FMAs rather than by latency.
 * With `exact`, one chain through the in-bounds taps, as the reference. */
KK_ALWAYS_INLINE __m256
pixel3x3 (const float *x0, const float *x1, const float *x2, bool h0, bool h1, bool h2,
          const __m256 w[9], __m256 vb, size_t tap, bool exact)
{
  if (exact)
    {
      __m256 a = vb;
      if (h0)
        {
          a = madd_ps (a, _mm256_loadu_ps (x0), w[0], true);
          a = madd_ps (a, _mm256_loadu_ps (x0 + tap), w[1], true);
          a = madd_ps (a, _mm256_loadu_ps (x0 + 2 * tap), w[2], true);
        }
      if (h1)
        {
          a = madd_ps (a, _mm256_loadu_ps (x1), w[3], true);
          a = madd_ps (a, _mm256_loadu_ps (x1 + tap), w[4], true);
          a = madd_ps (a, _mm256_loadu_ps (x1 + 2 * tap), w[5], true);
        }
      if (h2)
        {
          a = madd_ps (a, _mm256_loadu_ps (x2), w[6], true);
          a = madd_ps (a, _mm256_loadu_ps (x2 + tap), w[7], true);
          a = madd_ps (a, _mm256_loadu_ps (x2 + 2 * tap), w[8], true);
        }
      return a;
    }

  __m256 a0 = vb, a1 = _mm256_setzero_ps (), a2 = _mm256_setzero_ps ();

  if (h0)
    {
      a0 = _mm256_fmadd_ps (_mm256_loadu_ps (x0), w[0], a0);
      a0 = _mm256_fmadd_ps (_mm256_loadu_ps (x0 + tap), w[1], a0);
      a0 = _mm256_fmadd_ps (_mm256_loadu_ps (x0 + 2 * tap), w[2], a0);
    }
  if (h1)
    {
      a1 = _mm256_mul_ps (_mm256_loadu_ps (x1), w[3]);
      a1 = _mm256_fmadd_ps (_mm256_loadu_ps (x1 + tap), w[4], a1);
      a1 = _mm256_fmadd_ps (_mm256_loadu_ps (x1 + 2 * tap), w[5], a1);
    }
  if (h2)
    {
      a2 = _mm256_mul_ps (_mm256_loadu_ps (x2), w[6]);
      a2 = _mm256_fmadd_ps (_mm256_loadu_ps (x2 + tap), w[7], a2);
      a2 = _mm256_fmadd_ps (_mm256_loadu_ps (x2 + 2 * tap), w[8], a2);
    }
  if (h1 && h2)
    return _mm256_add_ps (a0, _mm256_add_ps (a1, a2));
  if (h1)
    return _mm256_add_ps (a0, a1);
  if (h2)
    return _mm256_add_ps (a0, a2);
  return a0;
}

/* Two neighbouring pixels (stride 1, no dilation) through one kernel row
 * of three taps w[0..2], exactly: the row's four input vectors x, x + C,
 * x + 2C, x + 3C loaded once, each pixel one chain in kx order as the
 * reference. */
KK_ALWAYS_INLINE void
pair_row_exact (const float *x, size_t C, const __m256 *w, __m256 *va, __m256 *vb)
{
  const __m256 c0 = _mm256_loadu_ps (x), c1 = _mm256_loadu_ps (x + C);
  const __m256 c2 = _mm256_loadu_ps (x + 2 * C), c3 = _mm256_loadu_ps (x + 3 * C);

  *va = madd_ps (*va, c0, w[0], true);
  *vb = madd_ps (*vb, c1, w[0], true);
  *va = madd_ps (*va, c1, w[1], true);
  *vb = madd_ps (*vb, c2, w[1], true);
  *va = madd_ps (*va, c2, w[2], true);
  *vb = madd_ps (*vb, c3, w[2], true);
}

/* One 8-channel block of a 3x3 row over n interior columns, no bounds
 * checks; the nine weight vectors stay in registers for the whole run.
 * h0..h2: which kernel rows are inside the input (x of the others is never
 * read). Without `clamp` (infinite bounds, BlazeFace's depthwise layers) the
 * min/max are left out: they would return their input, NaN included. */
KK_ALWAYS_INLINE void
row3x3_block (const float *x0, const float *x1, const float *x2, bool h0, bool h1, bool h2,
              bool clamp, const float *w, size_t C, __m256 vb, __m256 vlo, __m256 vhi,
              float *o, size_t n, size_t step, size_t tap, bool exact)
{
  const __m256 zero = _mm256_setzero_ps ();
  const __m256 wv[9] = {
    h0 ? _mm256_loadu_ps (w) : zero,
    h0 ? _mm256_loadu_ps (w + C) : zero,
    h0 ? _mm256_loadu_ps (w + 2 * C) : zero,
    h1 ? _mm256_loadu_ps (w + 3 * C) : zero,
    h1 ? _mm256_loadu_ps (w + 4 * C) : zero,
    h1 ? _mm256_loadu_ps (w + 5 * C) : zero,
    h2 ? _mm256_loadu_ps (w + 6 * C) : zero,
    h2 ? _mm256_loadu_ps (w + 7 * C) : zero,
    h2 ? _mm256_loadu_ps (w + 8 * C) : zero,
  };

  size_t i = 0;

  /* Stride 1, no dilation: two neighbouring pixels share two of their three
   * columns, so a pair loads 12 input vectors instead of 18 and the loop is
   * bound by its FMAs alone. Each pixel gets exactly the operations of
   * pixel3x3(), in the same order, so pairs and single pixels agree to the
   * bit. With `exact`, each pixel of the pair is one chain through its
   * in-bounds taps, as the reference. */
  if (exact && step == C && tap == C)
    for (; i + 2 <= n; i += 2, x0 += 2 * C, x1 += 2 * C, x2 += 2 * C, o += 2 * C)
      {
        __m256 va = vb, vb2 = vb;
        if (h0)
          pair_row_exact (x0, C, wv + 0, &va, &vb2);
        if (h1)
          pair_row_exact (x1, C, wv + 3, &va, &vb2);
        if (h2)
          pair_row_exact (x2, C, wv + 6, &va, &vb2);
        _mm256_storeu_ps (o, clamp ? clamp_ps (va, vlo, vhi) : va);
        _mm256_storeu_ps (o + C, clamp ? clamp_ps (vb2, vlo, vhi) : vb2);
      }
  if (!exact && step == C && tap == C)
    for (; i + 2 <= n; i += 2, x0 += 2 * C, x1 += 2 * C, x2 += 2 * C, o += 2 * C)
      {
        __m256 a0 = vb, b0 = vb;
        __m256 a1 = _mm256_setzero_ps (), b1 = a1, a2 = a1, b2 = a1;
        if (h0)
          {
            const __m256 c0 = _mm256_loadu_ps (x0), c1 = _mm256_loadu_ps (x0 + C);
            const __m256 c2 = _mm256_loadu_ps (x0 + 2 * C), c3 = _mm256_loadu_ps (x0 + 3 * C);
            a0 = _mm256_fmadd_ps (c0, wv[0], a0);
            b0 = _mm256_fmadd_ps (c1, wv[0], b0);
            a0 = _mm256_fmadd_ps (c1, wv[1], a0);
            b0 = _mm256_fmadd_ps (c2, wv[1], b0);
            a0 = _mm256_fmadd_ps (c2, wv[2], a0);
            b0 = _mm256_fmadd_ps (c3, wv[2], b0);
          }
        if (h1)
          {
            const __m256 c0 = _mm256_loadu_ps (x1), c1 = _mm256_loadu_ps (x1 + C);
            const __m256 c2 = _mm256_loadu_ps (x1 + 2 * C), c3 = _mm256_loadu_ps (x1 + 3 * C);
            a1 = _mm256_mul_ps (c0, wv[3]);
            b1 = _mm256_mul_ps (c1, wv[3]);
            a1 = _mm256_fmadd_ps (c1, wv[4], a1);
            b1 = _mm256_fmadd_ps (c2, wv[4], b1);
            a1 = _mm256_fmadd_ps (c2, wv[5], a1);
            b1 = _mm256_fmadd_ps (c3, wv[5], b1);
          }
        if (h2)
          {
            const __m256 c0 = _mm256_loadu_ps (x2), c1 = _mm256_loadu_ps (x2 + C);
            const __m256 c2 = _mm256_loadu_ps (x2 + 2 * C), c3 = _mm256_loadu_ps (x2 + 3 * C);
            a2 = _mm256_mul_ps (c0, wv[6]);
            b2 = _mm256_mul_ps (c1, wv[6]);
            a2 = _mm256_fmadd_ps (c1, wv[7], a2);
            b2 = _mm256_fmadd_ps (c2, wv[7], b2);
            a2 = _mm256_fmadd_ps (c2, wv[8], a2);
            b2 = _mm256_fmadd_ps (c3, wv[8], b2);
          }
        __m256 va = a0, vb2 = b0;
        if (h1 && h2)
          {
            va = _mm256_add_ps (a0, _mm256_add_ps (a1, a2));
            vb2 = _mm256_add_ps (b0, _mm256_add_ps (b1, b2));
          }
        else if (h1)
          {
            va = _mm256_add_ps (a0, a1);
            vb2 = _mm256_add_ps (b0, b1);
          }
        else if (h2)
          {
            va = _mm256_add_ps (a0, a2);
            vb2 = _mm256_add_ps (b0, b2);
          }
        _mm256_storeu_ps (o, clamp ? clamp_ps (va, vlo, vhi) : va);
        _mm256_storeu_ps (o + C, clamp ? clamp_ps (vb2, vlo, vhi) : vb2);
      }

  for (; i < n; i++, x0 += step, x1 += step, x2 += step, o += C)
    {
      __m256 v = pixel3x3 (x0, x1, x2, h0, h1, h2, wv, vb, tap, exact);
      _mm256_storeu_ps (o, clamp ? clamp_ps (v, vlo, vhi) : v);
    }
}

/* Interior columns [ox_begin, ox_end) of a 3x3 row (C >= 8), any stride and
 * dilation: BlazeFace's stride 1 and stride 2 layers both come here. */
KK_ALWAYS_INLINE void
dw3x3_interior (const kk_dwconv_params *p, const kk_dwconv_row *row, size_t ox_begin, size_t ox_end,
                bool exact)
{
  const size_t C = p->channels;
  const kk_dwconv_3x3_row r = kk_dwconv_3x3_row_at (p, row, ox_begin, ox_end);
  const bool full = r.h[0] && r.h[1] && r.h[2];
  const bool clamp = !(isinf (p->lo) && p->lo < 0 && isinf (p->hi) && p->hi > 0);
  const __m256 vlo = _mm256_set1_ps (p->lo), vhi = _mm256_set1_ps (p->hi);

  /* Channel blocks are the outer loop so that the weights stay in registers;
   * each block then sweeps the three input rows again, so the row goes in
   * tiles of columns small enough for those rows to stay in L1. */
  for (size_t t0 = 0; t0 < r.n; t0 += r.tile)
    {
      const size_t tn = r.n - t0 < r.tile ? r.n - t0 : r.tile;
      const size_t off = t0 * r.step;

      for (size_t c = 0; c < C; c += 8)
        {
          if (c + 8 > C)
            c = C - 8;  /* the overlapping last block, see the top of the file */

          const __m256 vb = p->bias != NULL ? _mm256_loadu_ps (p->bias + c) : _mm256_setzero_ps ();
          const float *x0 = r.x[0] + off + c, *x1 = r.x[1] + off + c, *x2 = r.x[2] + off + c;
          float *o = r.o + t0 * C + c;

          /* Most rows have all three kernel rows; give the compiler a copy
           * of the loop without the row tests, with and without clamping. */
          if (full && !clamp)
            row3x3_block (x0, x1, x2, true, true, true, false, p->weights + c, C, vb, vlo, vhi,
                          o, tn, r.step, r.tap, exact);
          else if (full)
            row3x3_block (x0, x1, x2, true, true, true, true, p->weights + c, C, vb, vlo, vhi,
                          o, tn, r.step, r.tap, exact);
          else
            row3x3_block (x0, x1, x2, r.h[0], r.h[1], r.h[2], true, p->weights + c, C, vb,
                          vlo, vhi, o, tn, r.step, r.tap, exact);
        }
    }
}

KK_ALWAYS_INLINE void
dwconv_avx2 (const kk_dwconv_params *p, const float *in, float *out,
             size_t row_begin, size_t row_end, bool exact)
{
  const bool is3x3 = p->kernel_h == 3 && p->kernel_w == 3 && p->channels >= 8;
  size_t x_lo = 0, x_hi = 0;

  if (p->channels == 0)
    return;
  if (is3x3)
    kk_window_interior (p->out_w, p->in_w, 3, p->stride_w, p->dilation_w, p->pad_left, &x_lo, &x_hi);

  row_end = kk_dwconv_rows_end (p, row_end);
  for (size_t r = row_begin; r < row_end; r++)
    {
      const kk_dwconv_row row = kk_dwconv_row_at (p, in, out, r);

      if (is3x3 && x_lo < x_hi && row.ky_lo < row.ky_hi)
        {
          dw_pixels (p, &row, 0, x_lo, exact);
          dw3x3_interior (p, &row, x_lo, x_hi, exact);
          dw_pixels (p, &row, x_hi, p->out_w, exact);
        }
      else
        dw_pixels (p, &row, 0, p->out_w, exact);
    }
}

void
kk_dwconv_f32_nhwc_avx2 (const kk_dwconv_params *p, const float *in, float *out,
                         size_t row_begin, size_t row_end)
{
  dwconv_avx2 (p, in, out, row_begin, row_end, false);
}

void
kk_dwconv_f32_nhwc_exact_avx2 (const kk_dwconv_params *p, const float *in, float *out,
                               size_t row_begin, size_t row_end)
{
  dwconv_avx2 (p, in, out, row_begin, row_end, true);
}
