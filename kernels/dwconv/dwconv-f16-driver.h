/* dwconv-f16-driver.h — the loops of the SIMD depthwise convolutions with
 * FP16 weights (dwconv-f16.h), included by dwconv-f16-avx2.c, -avx512.c and
 * -neon.c after they define, for their vector type V of F floats:
 *   F                lanes
 *   V_ZERO()         +0 in every lane
 *   V_SET1(f)        f in every lane
 *   V_LOAD(p)        F floats
 *   V_LOAD_H(p)      F halves, widened (exact)
 *   V_STORE(p, v)    F floats
 *   V_FMA(a, x, w)   a + x * w with one rounding
 *   V_CLAMP(v, lo, hi)  as kk_clamp_f32_1, lane by lane
 *   FUNC             the entry point's name
 * so it is compiled with each version's own flags.
 *
 * Channels go F at a time; C not a multiple of F ends with a block that
 * overlaps the one before (the same operations on the same channels give the
 * same bits, and there is no masked load of halves before AVX-512), and
 * C < F runs the scalar reference, which is the same arithmetic. A 3x3
 * kernel's interior columns keep the nine widened weight vectors of a
 * channel block in registers across a tile of columns; every other pixel
 * walks its in-bounds taps. Both keep the reference's order: one fused
 * chain per output from the bias through the taps in (ky, kx) order. The
 * row loop does two columns at a time so that two chains are in flight.
 */
#include "dwconv-f16.h"

#define KK_ALWAYS_INLINE static inline __attribute__ ((always_inline))

/* Channels [c, c + F) of one pixel. */
KK_ALWAYS_INLINE void
f16_pixel_block (const kk_dwconv_f16_taps *t, size_t C, size_t c, const float *bias, V vlo, V vhi,
                 float *o)
{
  V a = bias != NULL ? V_LOAD (bias + c) : V_ZERO ();
  const float *xr = t->x + c;
  const uint16_t *wr = t->w + c;

  for (size_t i = 0; i < t->ny; i++, xr += t->x_row, wr += t->w_row)
    {
      const float *x = xr;
      const uint16_t *w = wr;
      for (size_t j = 0; j < t->nx; j++, x += t->x_col, w += C)
        a = V_FMA (a, V_LOAD (x), V_LOAD_H (w));
    }
  V_STORE (o + c, V_CLAMP (a, vlo, vhi));
}

/* Output columns [ox_begin, ox_end) of a row, any kernel. */
static void
f16_pixels (const kk_dwconv_params *p, const uint16_t *weights, const kk_dwconv_row *row,
            size_t ox_begin, size_t ox_end)
{
  const size_t C = p->channels;
  const V vlo = V_SET1 (p->lo), vhi = V_SET1 (p->hi);

  for (size_t ox = ox_begin; ox < ox_end; ox++)
    {
      const kk_dwconv_f16_taps t = kk_dwconv_f16_pixel_taps (p, row, weights, ox);
      float *o = row->out_row + ox * C;
      size_t c = 0;

      for (; c + F <= C; c += F)
        f16_pixel_block (&t, C, c, p->bias, vlo, vhi, o);
      if (c < C)
        f16_pixel_block (&t, C, C - F, p->bias, vlo, vhi, o);
    }
}

/* One kernel row's three taps into the chain a. */
#define ROW3(a, x, wa, wb, wc)                                                                 \
  do                                                                                           \
    {                                                                                          \
      a = V_FMA (a, V_LOAD (x), wa);                                                           \
      a = V_FMA (a, V_LOAD ((x) + tap), wb);                                                   \
      a = V_FMA (a, V_LOAD ((x) + 2 * tap), wc);                                               \
    }                                                                                          \
  while (0)

/* One F-channel block of a 3x3 row over n interior columns (h0..h2: which
 * kernel rows are inside the input). */
KK_ALWAYS_INLINE void
f16_row3x3_block (const float *x0, const float *x1, const float *x2, bool h0, bool h1, bool h2,
                  const uint16_t *w, size_t C, V vb, V vlo, V vhi, float *o, size_t n, size_t step,
                  size_t tap)
{
  const V zero = V_ZERO ();
  const V w00 = h0 ? V_LOAD_H (w) : zero, w01 = h0 ? V_LOAD_H (w + C) : zero;
  const V w02 = h0 ? V_LOAD_H (w + 2 * C) : zero;
  const V w10 = h1 ? V_LOAD_H (w + 3 * C) : zero, w11 = h1 ? V_LOAD_H (w + 4 * C) : zero;
  const V w12 = h1 ? V_LOAD_H (w + 5 * C) : zero;
  const V w20 = h2 ? V_LOAD_H (w + 6 * C) : zero, w21 = h2 ? V_LOAD_H (w + 7 * C) : zero;
  const V w22 = h2 ? V_LOAD_H (w + 8 * C) : zero;
  size_t i = 0;

  for (; i + 2 <= n; i += 2, x0 += 2 * step, x1 += 2 * step, x2 += 2 * step, o += 2 * C)
    {
      V a = vb, b = vb;
      if (h0)
        {
          ROW3 (a, x0, w00, w01, w02);
          ROW3 (b, x0 + step, w00, w01, w02);
        }
      if (h1)
        {
          ROW3 (a, x1, w10, w11, w12);
          ROW3 (b, x1 + step, w10, w11, w12);
        }
      if (h2)
        {
          ROW3 (a, x2, w20, w21, w22);
          ROW3 (b, x2 + step, w20, w21, w22);
        }
      V_STORE (o, V_CLAMP (a, vlo, vhi));
      V_STORE (o + C, V_CLAMP (b, vlo, vhi));
    }
  if (i < n)
    {
      V a = vb;
      if (h0)
        ROW3 (a, x0, w00, w01, w02);
      if (h1)
        ROW3 (a, x1, w10, w11, w12);
      if (h2)
        ROW3 (a, x2, w20, w21, w22);
      V_STORE (o, V_CLAMP (a, vlo, vhi));
    }
}

/* Interior columns [ox_begin, ox_end) of a 3x3 row, in tiles of columns
 * (kk_dwconv_3x3_row_at) so that later channel blocks find the input rows
 * in L1. */
static void
f16_3x3_interior (const kk_dwconv_params *p, const uint16_t *weights, const kk_dwconv_row *row,
                  size_t ox_begin, size_t ox_end)
{
  const size_t C = p->channels;
  const kk_dwconv_3x3_row r = kk_dwconv_3x3_row_at (p, row, ox_begin, ox_end);
  const bool full = r.h[0] && r.h[1] && r.h[2];
  const V vlo = V_SET1 (p->lo), vhi = V_SET1 (p->hi);

  for (size_t t0 = 0; t0 < r.n; t0 += r.tile)
    {
      const size_t tn = r.n - t0 < r.tile ? r.n - t0 : r.tile;
      const size_t off = t0 * r.step;

      for (size_t cb = 0; cb < C; cb += F)
        {
          const size_t c = cb + F <= C ? cb : C - F;  /* the last block may overlap */
          const float *x0 = r.x[0] + off + c, *x1 = r.x[1] + off + c, *x2 = r.x[2] + off + c;
          const V vb = p->bias != NULL ? V_LOAD (p->bias + c) : V_ZERO ();
          float *o = r.o + t0 * C + c;

          if (full)
            f16_row3x3_block (x0, x1, x2, true, true, true, weights + c, C, vb, vlo, vhi, o, tn,
                              r.step, r.tap);
          else
            f16_row3x3_block (x0, x1, x2, r.h[0], r.h[1], r.h[2], weights + c, C, vb, vlo, vhi, o, tn,
                              r.step, r.tap);
        }
    }
}

void
FUNC (const kk_dwconv_params *p, const uint16_t *weights, const float *in, float *out,
      size_t row_begin, size_t row_end)
{
  const bool is3x3 = p->kernel_h == 3 && p->kernel_w == 3;
  size_t x_lo = 0, x_hi = 0;

  if (p->channels == 0)
    return;
  if (p->channels < F)
    {
      kk_dwconv_f16_nhwc_scalar (p, weights, in, out, row_begin, row_end);
      return;
    }
  if (is3x3)
    kk_window_interior (p->out_w, p->in_w, 3, p->stride_w, p->dilation_w, p->pad_left, &x_lo, &x_hi);

  row_end = kk_dwconv_rows_end (p, row_end);
  for (size_t r = row_begin; r < row_end; r++)
    {
      const kk_dwconv_row row = kk_dwconv_row_at (p, in, out, r);

      if (is3x3 && x_lo < x_hi && row.ky_lo < row.ky_hi)
        {
          f16_pixels (p, weights, &row, 0, x_lo);
          f16_3x3_interior (p, weights, &row, x_lo, x_hi);
          f16_pixels (p, weights, &row, x_hi, p->out_w);
        }
      else
        f16_pixels (p, weights, &row, 0, p->out_w);
    }
}
