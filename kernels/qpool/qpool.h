/* qpool.h — max pooling on u8 NHWC (kk_kernels.maxpool_u8_nhwc), one
 * function per instruction set.
 *
 * out = max over the window taps inside the input; padding never wins, and
 * a window entirely in padding (impossible with valid ONNX parameters)
 * gives 0. A max of u8 is exact, so every version is bit-identical to the
 * reference whatever order it takes the taps in; scale and zero point pass
 * through unchanged. Vectors run along channels; channel counts that are
 * not a multiple of the vector end with a block overlapping the previous
 * one (it rewrites the same bytes), and fewer channels than a vector use
 * the scalar loop.
 */
#pragma once

#include "kk-internal.h"

#define KK_QPOOL_DECLARE(isa)                                                             \
  void kk_maxpool_u8_nhwc_##isa (const kk_pool_params *p, const uint8_t *in, uint8_t *out, \
                                 size_t row_begin, size_t row_end);

KK_QPOOL_DECLARE (scalar)
#if KK_ARCH_X86
KK_QPOOL_DECLARE (sse42)
KK_QPOOL_DECLARE (avx2)
KK_QPOOL_DECLARE (avx512)
#endif
#if KK_ARCH_ARM64
KK_QPOOL_DECLARE (neon)
#endif

/* The in-bounds taps of output pixel (r, ox), r counting rows of all
 * images: x points at the first (channel 0), ny rows of nx taps (both 0
 * when the window is all padding), x_col bytes apart along a row and x_row
 * between rows. */
typedef struct {
  const uint8_t *x;
  size_t ny, nx;
  size_t x_row, x_col;
} kk_qpool_taps;

static inline kk_qpool_taps
kk_qpool_taps_at (const kk_pool_params *p, const uint8_t *in, size_t r, size_t ox)
{
  const size_t C = p->channels, n = r / p->out_h, oy = r % p->out_h;
  const ptrdiff_t iy0 = (ptrdiff_t) (oy * p->stride_h) - (ptrdiff_t) p->pad_top;
  const ptrdiff_t ix0 = (ptrdiff_t) (ox * p->stride_w) - (ptrdiff_t) p->pad_left;
  size_t ky_lo, ky_hi, kx_lo, kx_hi;
  kk_qpool_taps t;

  kk_window_tap_range (iy0, p->kernel_h, p->dilation_h, p->in_h, &ky_lo, &ky_hi);
  kk_window_tap_range (ix0, p->kernel_w, p->dilation_w, p->in_w, &kx_lo, &kx_hi);
  t.ny = ky_hi - ky_lo;
  t.nx = kx_hi - kx_lo;
  if (t.ny == 0 || t.nx == 0)
    t.ny = t.nx = 0;
  t.x_row = p->dilation_h * p->in_w * C;
  t.x_col = p->dilation_w * C;
  t.x = in + n * p->in_h * p->in_w * C;
  if (t.ny != 0)
    {
      const size_t iy = (size_t) (iy0 + (ptrdiff_t) (ky_lo * p->dilation_h));
      const size_t ix = (size_t) (ix0 + (ptrdiff_t) (kx_lo * p->dilation_w));
      t.x += (iy * p->in_w + ix) * C;
    }
  return t;
}

/* Channels [c0, c1) of one pixel, one at a time: the reference, and the
 * SIMD versions' narrow case. */
static inline void
kk_qpool_pixel_scalar (const kk_qpool_taps *t, size_t c0, size_t c1, uint8_t *o)
{
  for (size_t c = c0; c < c1; c++)
    {
      uint8_t m = 0;
      for (size_t i = 0; i < t->ny; i++)
        for (size_t j = 0; j < t->nx; j++)
          {
            uint8_t v = t->x[i * t->x_row + j * t->x_col + c];
            m = v > m ? v : m;
          }
      o[c] = m;
    }
}

static inline size_t
kk_qpool_rows_end (const kk_pool_params *p, size_t row_end)
{
  const size_t rows = p->batch * p->out_h;
  return row_end < rows ? row_end : rows;
}

/* The loop over output pixels every version shares; `pixel` does all the
 * channels of one. */
#define KK_QPOOL_FOR_EACH_PIXEL(p, in, out, row_begin, row_end, pixel)            \
  do                                                                              \
    {                                                                             \
      const size_t C_ = (p)->channels;                                            \
      const size_t end_ = kk_qpool_rows_end ((p), (row_end));                     \
      for (size_t r_ = (row_begin); r_ < end_; r_++)                              \
        for (size_t ox_ = 0; ox_ < (p)->out_w; ox_++)                             \
          {                                                                       \
            const kk_qpool_taps t_ = kk_qpool_taps_at ((p), (in), r_, ox_);       \
            pixel (&t_, C_, (out) + (r_ * (p)->out_w + ox_) * C_);                \
          }                                                                       \
    }                                                                             \
  while (0)

/* pixel () of a version whose `block (t, c, o)` does `width` channels from
 * c: blocks along the channels, the last overlapping the one before it
 * when C is not a multiple of width (it rewrites the same bytes), the
 * scalar loop below width channels. */
#define KK_QPOOL_PIXEL_BLOCKS(name, width, block)                  \
  static void name (const kk_qpool_taps *t, size_t C, uint8_t *o)  \
  {                                                                \
    size_t c = 0;                                                  \
    if (C < (width))                                               \
      {                                                            \
        kk_qpool_pixel_scalar (t, 0, C, o);                        \
        return;                                                    \
      }                                                            \
    for (; c + (width) <= C; c += (width))                         \
      block (t, c, o);                                             \
    if (c < C)                                                     \
      block (t, C - (width), o);                                   \
  }
