/* dwconv-f16.h — depthwise convolution with FP16 weights (FP16 plans).
 *
 * The same convolution as dwconv.h, with the weights kept as IEEE halves
 * [kh][kw][C] (kk_dwconv_f16_pack_weights) and widened to float as they are
 * loaded: the plan keeps half the bytes, and the widening costs one
 * conversion per weight vector, which the 3x3 row loops pay once per
 * channel block and tile, not per pixel.
 *
 * Unlike the float kernels the arithmetic is defined to the bit, as the FP16
 * gemm's is, so every version is checked against the scalar reference with
 * memcmp: each output starts at its bias (+0 without one), takes the
 * in-bounds taps in (ky, kx) order, each by one fused multiply-add (fmaf:
 * one rounding), and is clamped as kk_clamp_f32_1 does (x > hi -> hi, then
 * x < lo -> lo; NaN passes). One chain per output, not one partial sum per
 * kernel row as dwconv-avx2.c has: that would be a different sum.
 *
 * Versions: scalar (the reference, also SSE4.2's: it has no FMA), AVX2 and
 * AVX-512 (F16C) and NEON (FCVTL), the three SIMD ones from one loop nest,
 * dwconv-f16-driver.h. Kept apart from the float files so that their exact
 * order can change without touching these.
 *
 * p->weights is not read; the halves come as their own argument.
 */
#pragma once

#include "dwconv.h"

void kk_dwconv_f16_nhwc_scalar (const kk_dwconv_params *p, const uint16_t *weights, const float *in,
                                float *out, size_t row_begin, size_t row_end);
#if KK_ARCH_X86
void kk_dwconv_f16_nhwc_avx2 (const kk_dwconv_params *p, const uint16_t *weights, const float *in,
                              float *out, size_t row_begin, size_t row_end);
void kk_dwconv_f16_nhwc_avx512 (const kk_dwconv_params *p, const uint16_t *weights, const float *in,
                                float *out, size_t row_begin, size_t row_end);
#endif
#if KK_ARCH_ARM64
void kk_dwconv_f16_nhwc_neon (const kk_dwconv_params *p, const uint16_t *weights, const float *in,
                              float *out, size_t row_begin, size_t row_end);
#endif

/* The in-bounds taps of output pixel ox of a row, as kk_dwconv_pixel_taps
 * gives them for float weights: x and w point at the first tap (channel
 * 0); ny rows of nx taps (both 0 when the window is all padding). */
typedef struct {
  const float *x;
  const uint16_t *w;
  size_t ny, nx;
  size_t x_row, x_col, w_row;
} kk_dwconv_f16_taps;

static inline kk_dwconv_f16_taps
kk_dwconv_f16_pixel_taps (const kk_dwconv_params *p, const kk_dwconv_row *row, const uint16_t *weights,
                          size_t ox)
{
  const size_t C = p->channels;
  const ptrdiff_t ix0 = (ptrdiff_t) (ox * p->stride_w) - (ptrdiff_t) p->pad_left;
  size_t kx_lo, kx_hi;
  kk_dwconv_f16_taps t;

  kk_window_tap_range (ix0, p->kernel_w, p->dilation_w, p->in_w, &kx_lo, &kx_hi);
  t.nx = kx_hi - kx_lo;
  t.ny = row->ky_hi - row->ky_lo;
  if (t.nx == 0 || t.ny == 0)
    t.nx = t.ny = 0;
  t.x_row = p->dilation_h * p->in_w * C;
  t.x_col = p->dilation_w * C;
  t.w_row = p->kernel_w * C;
  t.w = weights + (row->ky_lo * p->kernel_w + kx_lo) * C;
  t.x = row->image;
  if (t.ny != 0)
    {
      const size_t iy = (size_t) (row->iy0 + (ptrdiff_t) (row->ky_lo * p->dilation_h));
      const size_t ix = (size_t) (ix0 + (ptrdiff_t) (kx_lo * p->dilation_w));
      t.x = row->image + (iy * p->in_w + ix) * C;
    }
  return t;
}
