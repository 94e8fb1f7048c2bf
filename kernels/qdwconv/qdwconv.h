/* qdwconv.h — depthwise convolution on u8 NHWC with s8 weights and fused
 * requantisation (kk_kernels.qdwconv_u8_nhwc; parameters and arithmetic in
 * kestrel-kernels.h), one function per instruction set.
 *
 *   acc[c] = bias[c] + sum over in-bounds taps of (x[c] - input_zero_point) * w[tap][c]
 *   out[c] = kk_requant_one (acc[c], multiplier[c], ...)
 *
 * Taps in the padding are skipped, which is the same as reading the input
 * zero point there (real 0). The SIMD versions centre x in 16 bits, multiply
 * by the weight widened to 16 bits (|product| <= 255 * 127 fits s16
 * exactly), widen the product to s32 and add: exact, so any order of taps
 * gives the reference's bits. Channels run along vectors; a channel count
 * that is not a multiple of the vector ends with a block overlapping the
 * previous one (it rewrites the same bytes), and fewer channels than a
 * vector use the scalar loop (AVX-512 masks instead).
 *
 * Preconditions: strides >= 1, kernel_h * kernel_w <= KK_QGEMM_MAX_K,
 * |bias| <= KK_QGEMM_MAX_ABS_BIAS, in and out do not overlap, row_end <=
 * batch * out_h (larger is clamped).
 */
#pragma once

#include "kk-requant.h"

#define KK_QDWCONV_DECLARE(isa)                                                              \
  void kk_qdwconv_u8_nhwc_##isa (const kk_qdwconv_params *p, const uint8_t *in, uint8_t *out, \
                                 size_t row_begin, size_t row_end);

KK_QDWCONV_DECLARE (scalar)
#if KK_ARCH_X86
KK_QDWCONV_DECLARE (sse42)
KK_QDWCONV_DECLARE (avx2)
KK_QDWCONV_DECLARE (avx512)
KK_QDWCONV_DECLARE (avx512vnni)
#endif
#if KK_ARCH_ARM64
KK_QDWCONV_DECLARE (neon)
#endif

/* The in-bounds taps of one output pixel: x at the first tap's channel 0,
 * w at its weights, ny rows of nx taps. */
typedef struct {
  const uint8_t *x;
  const int8_t *w;
  size_t ny, nx;
  size_t x_row, w_row;   /* between tap rows, in bytes */
  size_t C;              /* between taps of a row (x and w alike) */
} kk_qdwconv_taps;

static inline kk_qdwconv_taps
kk_qdwconv_taps_at (const kk_qdwconv_params *p, const uint8_t *in, size_t r, size_t ox)
{
  const size_t C = p->channels, n = r / p->out_h, oy = r % p->out_h;
  const ptrdiff_t iy0 = (ptrdiff_t) (oy * p->stride_h) - (ptrdiff_t) p->pad_top;
  const ptrdiff_t ix0 = (ptrdiff_t) (ox * p->stride_w) - (ptrdiff_t) p->pad_left;
  size_t ky_lo, ky_hi, kx_lo, kx_hi;
  kk_qdwconv_taps t;

  kk_window_tap_range (iy0, p->kernel_h, 1, p->in_h, &ky_lo, &ky_hi);
  kk_window_tap_range (ix0, p->kernel_w, 1, p->in_w, &kx_lo, &kx_hi);
  t.ny = ky_hi - ky_lo;
  t.nx = kx_hi - kx_lo;
  if (t.ny == 0 || t.nx == 0)
    t.ny = t.nx = 0;
  t.C = C;
  t.x_row = p->in_w * C;
  t.w_row = p->kernel_w * C;
  t.x = in + n * p->in_h * p->in_w * C;
  t.w = p->weights + (ky_lo * p->kernel_w + kx_lo) * C;
  if (t.ny != 0)
    t.x += ((size_t) (iy0 + (ptrdiff_t) ky_lo) * p->in_w + (size_t) (ix0 + (ptrdiff_t) kx_lo)) * C;
  return t;
}

/* Channels [c0, c1) of one pixel, one at a time: the reference, and the
 * SIMD versions' narrow case. */
static inline void
kk_qdwconv_pixel_scalar (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, size_t c0,
                         size_t c1, uint8_t *o)
{
  const kk_requant *rq = &p->requant;
  for (size_t c = c0; c < c1; c++)
    {
      int64_t acc = p->bias != NULL ? p->bias[c] : 0;
      for (size_t i = 0; i < t->ny; i++)
        for (size_t j = 0; j < t->nx; j++)
          acc += ((int32_t) t->x[i * t->x_row + j * t->C + c] - p->input_zero_point)
                 * t->w[i * t->w_row + j * t->C + c];
      o[c] = kk_requant_one ((int32_t) acc, rq->multiplier[c], rq->shift, rq->zero_point, rq->lo,
                             rq->hi);
    }
}

static inline size_t
kk_qdwconv_rows_end (const kk_qdwconv_params *p, size_t row_end)
{
  const size_t rows = p->batch * p->out_h;
  return row_end < rows ? row_end : rows;
}

/* The loop over output pixels every version shares; `pixel` does all the
 * channels of one. */
#define KK_QDWCONV_FOR_EACH_PIXEL(p, in, out, row_begin, row_end, pixel)                  \
  do                                                                                      \
    {                                                                                     \
      const size_t C_ = (p)->channels;                                                    \
      const size_t end_ = kk_qdwconv_rows_end ((p), (row_end));                           \
      for (size_t r_ = (row_begin); r_ < end_; r_++)                                      \
        {                                                                                 \
          uint8_t *row_ = (out) + (r_ - (p)->out_row0) * (p)->out_w * C_;                 \
          for (size_t ox_ = 0; ox_ < (p)->out_w; ox_++)                                   \
            {                                                                             \
              const kk_qdwconv_taps t_ = kk_qdwconv_taps_at ((p), (in), r_, ox_);         \
              pixel ((p), &t_, row_ + ox_ * C_);                                          \
            }                                                                             \
        }                                                                                 \
    }                                                                                     \
  while (0)

/* pixel () of a version whose `block (p, t, c, o)` does `width` channels
 * from c: blocks along the channels, the last overlapping the one before
 * it when C is not a multiple of width, the scalar loop below width. */
#define KK_QDWCONV_PIXEL_BLOCKS(name, width, block)                                        \
  static void name (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, uint8_t *o)   \
  {                                                                                      \
    const size_t C = p->channels;                                                        \
    size_t c = 0;                                                                        \
    if (C < (width))                                                                     \
      {                                                                                  \
        kk_qdwconv_pixel_scalar (p, t, 0, C, o);                                         \
        return;                                                                          \
      }                                                                                  \
    for (; c + (width) <= C; c += (width))                                               \
      block (p, t, c, o);                                                                \
    if (c < C)                                                                           \
      block (p, t, C - (width), o);                                                      \
  }
