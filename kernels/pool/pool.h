/* pool.h — max pooling, float32 NHWC. One function per instruction set.
 *
 * out = max over the window taps that fall inside the input; padding never
 * wins. Every version starts from -INFINITY and folds the taps in (ky, kx)
 * order with
 *   acc = x > acc ? x : acc
 * (x86 MAXPS with the tap first; NEON uses compare + select to match), so:
 *   - results are bit-identical across ISAs, signed zeros included;
 *   - a NaN tap never wins, it is ignored like padding;
 *   - a window entirely in padding (impossible with valid ONNX parameters)
 *     gives -INFINITY.
 * Vectors run along channels. Pooling does almost no arithmetic, so the
 * SIMD versions avoid per-pixel bookkeeping: the columns whose window is
 * inside the input share one set of taps per row (BlazeFace's 2x2 window
 * has an unrolled loop), and only border pixels clip their window.
 *
 * Preconditions as for dwconv (dwconv.h): strides and dilations >= 1, in
 * and out do not overlap, row_end <= batch * out_h (larger is clamped).
 */
/* Global average pooling, NHWC (avgpool_global_f32_nhwc,
 * avgpool-global-*.c): each channel's sum starts at +0 and adds the pixels
 * in order, one lane per channel, then divides by the pixel count, so every
 * ISA gives the reference's bits. SSE4.2 and NEON use the scalar version.
 */
#pragma once

#include "kk-internal.h"

#include <stddef.h>

void kk_maxpool_f32_nhwc_scalar (const kk_pool_params *p, const float *in, float *out,
                                 size_t row_begin, size_t row_end);
void kk_avgpool_global_f32_nhwc_scalar (const float *x, size_t pixels, size_t channels,
                                        size_t stride, float *y);
#if KK_ARCH_X86
void kk_avgpool_global_f32_nhwc_avx2 (const float *x, size_t pixels, size_t channels,
                                      size_t stride, float *y);
void kk_avgpool_global_f32_nhwc_avx512 (const float *x, size_t pixels, size_t channels,
                                        size_t stride, float *y);
void kk_maxpool_f32_nhwc_sse42 (const kk_pool_params *p, const float *in, float *out,
                                size_t row_begin, size_t row_end);
void kk_maxpool_f32_nhwc_avx2 (const kk_pool_params *p, const float *in, float *out,
                               size_t row_begin, size_t row_end);
void kk_maxpool_f32_nhwc_avx512 (const kk_pool_params *p, const float *in, float *out,
                                 size_t row_begin, size_t row_end);
#endif
#if KK_ARCH_ARM64
void kk_maxpool_f32_nhwc_neon (const kk_pool_params *p, const float *in, float *out,
                               size_t row_begin, size_t row_end);
#endif

/* The in-bounds taps of output pixel (r, ox), r counting rows of all images:
 * x points at the first of them (channel 0), ny rows of nx taps (both 0 when
 * the window is all padding), x_col floats apart along a row and x_row
 * between rows. */
typedef struct {
  const float *x;
  size_t ny, nx;
  size_t x_row, x_col;
} kk_pool_taps;

typedef struct {
  const float *image;
  float *out_row;
  ptrdiff_t iy0;
  size_t ky_lo, ky_hi;
} kk_pool_row;

static inline kk_pool_row
kk_pool_row_at (const kk_pool_params *p, const float *in, float *out, size_t r)
{
  kk_pool_row row;
  const size_t n = r / p->out_h, oy = r % p->out_h;

  row.image = in + n * p->in_h * p->in_w * p->channels;
  row.out_row = out + r * p->out_w * p->channels;
  row.iy0 = (ptrdiff_t) (oy * p->stride_h) - (ptrdiff_t) p->pad_top;
  kk_window_tap_range (row.iy0, p->kernel_h, p->dilation_h, p->in_h, &row.ky_lo, &row.ky_hi);
  return row;
}

static inline kk_pool_taps
kk_pool_pixel_taps (const kk_pool_params *p, const kk_pool_row *row, size_t ox)
{
  const size_t C = p->channels;
  const ptrdiff_t ix0 = (ptrdiff_t) (ox * p->stride_w) - (ptrdiff_t) p->pad_left;
  size_t kx_lo, kx_hi;
  kk_pool_taps t;

  kk_window_tap_range (ix0, p->kernel_w, p->dilation_w, p->in_w, &kx_lo, &kx_hi);
  t.nx = kx_hi - kx_lo;
  t.ny = row->ky_hi - row->ky_lo;
  if (t.nx == 0 || t.ny == 0)
    t.nx = t.ny = 0;
  t.x_row = p->dilation_h * p->in_w * C;
  t.x_col = p->dilation_w * C;
  t.x = row->image;
  if (t.ny != 0)
    {
      const size_t iy = (size_t) (row->iy0 + (ptrdiff_t) (row->ky_lo * p->dilation_h));
      const size_t ix = (size_t) (ix0 + (ptrdiff_t) (kx_lo * p->dilation_w));
      t.x = row->image + (iy * p->in_w + ix) * C;
    }
  return t;
}

static inline size_t
kk_pool_rows_end (const kk_pool_params *p, size_t row_end)
{
  const size_t rows = p->batch * p->out_h;
  return row_end < rows ? row_end : rows;
}
