/* dwconv.h — depthwise convolution, float32 NHWC, fused bias and clamp.
 *
 * One function per instruction set, plus the window geometry they all share
 * (static inline, so each ISA file compiles it with its own flags).
 *
 * Every version computes, for each output element,
 *   clamp (bias[c] + sum over in-bounds taps (ky, kx) of in * w, lo, hi)
 * with the clamp of eltwise.h (NaN stays NaN). The scalar reference adds
 * the taps one multiply and one add at a time in (ky, kx) order; SSE4.2 does
 * exactly the same per lane (so it is bit-identical), while AVX2, AVX-512 and
 * NEON use fused multiply-adds and differ from it by rounding only.
 * AVX2, AVX-512 and NEON also have an exact version (the reference's
 * arithmetic per lane) for the integer plans' float steps.
 *
 * Layout of the SIMD versions: channels are the vector dimension (NHWC keeps
 * them contiguous, so every load and store is a plain unaligned vector). A
 * 3x3 kernel (any stride or dilation: BlazeFace uses stride 1 and 2) has an
 * output-row loop that keeps the nine weight vectors of one channel block in
 * registers and walks the columns whose window lies inside the input, with
 * no bounds checks (the top and bottom rows just skip the kernel row that
 * falls in padding), in tiles of columns sized for L1. Everything else —
 * border columns, other kernel sizes — goes through a per-pixel loop over
 * the taps that fall inside the input, clipped once per pixel.
 *
 * Preconditions: strides and dilations >= 1, in and out do not overlap,
 * row_end <= batch * out_h (larger values are clamped to it), row_begin >=
 * out_row0 (out may hold only a band of rows, see kk_dwconv_params).
 */
#pragma once

#include "kk-internal.h"

#include <stdbool.h>
#include <stddef.h>

void kk_dwconv_f32_nhwc_scalar (const kk_dwconv_params *p, const float *in, float *out,
                                size_t row_begin, size_t row_end);
#if KK_ARCH_X86
void kk_dwconv_f32_nhwc_sse42 (const kk_dwconv_params *p, const float *in, float *out,
                               size_t row_begin, size_t row_end);
void kk_dwconv_f32_nhwc_avx2 (const kk_dwconv_params *p, const float *in, float *out,
                              size_t row_begin, size_t row_end);
void kk_dwconv_f32_nhwc_avx512 (const kk_dwconv_params *p, const float *in, float *out,
                                size_t row_begin, size_t row_end);
/* The reference's bits (kestrel-kernels.h, dwconv_f32_nhwc_exact). */
void kk_dwconv_f32_nhwc_exact_avx2 (const kk_dwconv_params *p, const float *in, float *out,
                                    size_t row_begin, size_t row_end);
void kk_dwconv_f32_nhwc_exact_avx512 (const kk_dwconv_params *p, const float *in, float *out,
                                      size_t row_begin, size_t row_end);
#endif
#if KK_ARCH_ARM64
void kk_dwconv_f32_nhwc_neon (const kk_dwconv_params *p, const float *in, float *out,
                              size_t row_begin, size_t row_end);
/* The reference's bits (kestrel-kernels.h, dwconv_f32_nhwc_exact). */
void kk_dwconv_f32_nhwc_exact_neon (const kk_dwconv_params *p, const float *in, float *out,
                                    size_t row_begin, size_t row_end);
#endif

/* Where output row r (of all images) reads from: the image, the first input
 * row of its window (may be negative) and the rows of the window inside the
 * input. */
typedef struct {
  const float *image;
  float *out_row;
  ptrdiff_t iy0;
  size_t ky_lo, ky_hi;
} kk_dwconv_row;

static inline kk_dwconv_row
kk_dwconv_row_at (const kk_dwconv_params *p, const float *in, float *out, size_t r)
{
  kk_dwconv_row row;
  const size_t n = r / p->out_h, oy = r % p->out_h;

  row.image = in + n * p->in_h * p->in_w * p->channels;
  row.out_row = out + (r - p->out_row0) * p->out_w * p->channels;
  row.iy0 = (ptrdiff_t) (oy * p->stride_h) - (ptrdiff_t) p->pad_top;
  kk_window_tap_range (row.iy0, p->kernel_h, p->dilation_h, p->in_h, &row.ky_lo, &row.ky_hi);
  return row;
}

/* How many of n output columns the 3x3 row loops do per tile: their three
 * input rows should take at most about 20 KiB, inside any L1 data cache
 * (32 KiB on these CPUs) next to the weights and output, so that the channel
 * blocks after the first find them there. Tiles are made equal so that no
 * tile is a sliver, and at least 8 columns so that per-tile weight loads stay
 * negligible. */
static inline size_t
kk_dwconv_tile_columns (size_t n, size_t channels, size_t stride)
{
  const size_t floats = 20 * 1024 / sizeof (float) / 3;
  size_t cols = floats / (channels * stride);

  if (cols < 8)
    cols = 8;
  if (n <= cols)
    return n > 0 ? n : 1;
  const size_t tiles = (n + cols - 1) / cols;
  return (n + tiles - 1) / tiles;
}

static inline size_t
kk_dwconv_rows_end (const kk_dwconv_params *p, size_t row_end)
{
  const size_t rows = p->batch * p->out_h;
  return row_end < rows ? row_end : rows;
}

/* The in-bounds taps of output pixel ox of a row: x and w point at the first
 * of them (channel 0); ny rows of nx taps (both 0 when the window is all
 * padding). Input taps are x_col floats apart along a row and x_row between
 * rows; weights C apart along a row and w_row between rows. */
typedef struct {
  const float *x, *w;
  size_t ny, nx;
  size_t x_row, x_col, w_row;
} kk_dwconv_taps;

static inline kk_dwconv_taps
kk_dwconv_pixel_taps (const kk_dwconv_params *p, const kk_dwconv_row *row, size_t ox)
{
  const size_t C = p->channels;
  const ptrdiff_t ix0 = (ptrdiff_t) (ox * p->stride_w) - (ptrdiff_t) p->pad_left;
  size_t kx_lo, kx_hi;
  kk_dwconv_taps t;

  kk_window_tap_range (ix0, p->kernel_w, p->dilation_w, p->in_w, &kx_lo, &kx_hi);
  t.nx = kx_hi - kx_lo;
  t.ny = row->ky_hi - row->ky_lo;
  if (t.nx == 0 || t.ny == 0)
    t.nx = t.ny = 0;
  t.x_row = p->dilation_h * p->in_w * C;
  t.x_col = p->dilation_w * C;
  t.w_row = p->kernel_w * C;
  t.w = p->weights + (row->ky_lo * p->kernel_w + kx_lo) * C;
  t.x = row->image;
  if (t.ny != 0)
    {
      const size_t iy = (size_t) (row->iy0 + (ptrdiff_t) (row->ky_lo * p->dilation_h));
      const size_t ix = (size_t) (ix0 + (ptrdiff_t) (kx_lo * p->dilation_w));
      t.x = row->image + (iy * p->in_w + ix) * C;
    }
  return t;
}

/* The interior columns [ox_begin, ox_end) of a 3x3 output row, as the SIMD
 * row loops walk them: x[k] is the input under kernel row k for the first
 * column (channel 0), h[k] whether kernel row k is inside the input (the
 * top and bottom output rows lose one). A kernel row outside the input
 * borrows a valid row's pointer so that no out-of-bounds pointer is ever
 * formed; it is never read. Successive columns are `step` floats apart,
 * kernel columns `tap` floats apart. */
typedef struct {
  const float *x[3];
  bool h[3];
  float *o;
  size_t n, step, tap;
  size_t tile;  /* columns per tile, see kk_dwconv_tile_columns */
} kk_dwconv_3x3_row;

static inline kk_dwconv_3x3_row
kk_dwconv_3x3_row_at (const kk_dwconv_params *p, const kk_dwconv_row *row,
                      size_t ox_begin, size_t ox_end)
{
  const size_t C = p->channels;
  const size_t ix0 = ox_begin * p->stride_w - p->pad_left;
  kk_dwconv_3x3_row r3;

  for (size_t k = 0; k < 3; k++)
    {
      const bool inside = k >= row->ky_lo && k < row->ky_hi;
      const size_t ky = inside ? k : row->ky_lo;
      const size_t iy = (size_t) (row->iy0 + (ptrdiff_t) (ky * p->dilation_h));

      r3.h[k] = inside;
      r3.x[k] = row->image + (iy * p->in_w + ix0) * C;
    }
  r3.o = row->out_row + ox_begin * C;
  r3.n = ox_end - ox_begin;
  r3.step = p->stride_w * C;
  r3.tap = p->dilation_w * C;
  r3.tile = kk_dwconv_tile_columns (r3.n, C, p->stride_w);
  return r3;
}
