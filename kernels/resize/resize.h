/* resize.h — bilinear u8 resize: the arithmetic every ISA shares.
 *
 * Geometry (half-pixel centres, edges clamped). For output column x of a
 * row dst_w wide resized from src_w:
 *
 *   sx = (x + 0.5) * src_w / dst_w - 0.5 = ((2x + 1) src_w - dst_w) / (2 dst_w)
 *
 * computed exactly in 64-bit integers (no floating point, so no compiler or
 * ISA can round it differently):
 *   - sx <= 0         -> x0 = 0, fx = 0
 *   - otherwise x0 = floor (sx), fx = round (frac (sx) * 2048), an 11-bit
 *     weight; fx == 2048 after rounding moves to x0 + 1, fx = 0
 *   - x0 >= src_w - 1 -> x0 = src_w - 1, fx = 0
 * so x1 = x0 + 1 is a real column whenever fx != 0. Rows use the same
 * function (kk_resize_coord) with src_h / dst_h, giving y0 and fy.
 *
 * Arithmetic: a vertical pass, then a horizontal one.
 *
 *   vertical   (u8 -> s16, per source byte of the columns a chunk needs)
 *     v = (s0 * (2048 - fy) + s1 * fy + 8) >> 4          0 <= v <= 255 * 128
 *   horizontal (s16 -> u8, per output byte)
 *     d = (v0 * (2048 - fx) + v1 * fx + (1 << 17)) >> 18  0 <= d <= 255
 *
 * v keeps 7 fractional bits and fits a signed 16-bit lane, so the vertical
 * pass runs 16 bits wide. SIMD versions compute it as
 *   v = (s0 << 7) + mulhrs ((s1 - s0) << 7, fy << 4)
 * where mulhrs (a, b) = (a * b + (1 << 14)) >> 15 (x86 pmulhrsw, NEON
 * vqrdmulh, which only saturates for -32768 * -32768, impossible here since
 * fy << 4 >= 0). That is the same number: s0 << 11 is a multiple of 16, so
 * (s0 << 11 + (s1 - s0) fy + 8) >> 4 = (s0 << 7) + (((s1 - s0) fy + 8) >> 4),
 * and ((s1 - s0) fy + 8) >> 4 = ((s1 - s0) 2^7 * fy 2^4 + 2^14) >> 15.
 * The horizontal pass is a pmaddwd-style dot product of (v0, v1) with the
 * packed weight pair (2048 - fx) | fx << 16, then a rounding shift; its sum
 * stays below 2^31. Every ISA therefore produces the same bytes as the
 * scalar reference.
 *
 * Accuracy against exact bilinear: each weight is within 1/4096 of the true
 * one (<= 255/4096 = 0.063 levels per pass), v is rounded to 1/128 level
 * (<= 0.004) and the result to the nearest integer (0.5): |error| <= 0.63.
 *
 * Vertical first means the gathering (horizontal) pass runs once per output
 * pixel, while the extra vertical work (over the source columns, 3x the
 * output for a 3x downscale) is contiguous and cheap.
 *
 * Chunks. The driver (resize.c) walks output columns in chunks whose source
 * span fits a fixed stack scratch row, builds the chunk's column table once
 * (shared by every ISA, so coordinates cannot diverge), then for each output
 * row runs the ISA's vertical pass over the span and its horizontal pass over
 * the chunk. No heap, and nothing read outside the source rows [0, src_h) and
 * bytes [0, src_w * channels) of each row.
 *
 * Scratch layout: v[0 .. span * C) from the vertical pass, then a copy of the
 * last pixel (so a pair load at the last column, whose weight fx is 0, reads
 * defined values), then KK_RESIZE_SCRATCH_TAIL zeros for SIMD loads that
 * read a little past a pair (3-channel loads of 8 lanes).
 */
#pragma once

#include "kk-internal.h"

/* Output columns per chunk, and int16 elements of the scratch row. With 4
 * channels a chunk covers a 2047-pixel source span: 1920 -> 640 is one
 * chunk. The stack cost is about 24 KiB. */
#define KK_RESIZE_CHUNK_PX 1024
#define KK_RESIZE_SCRATCH_TAIL 16
#define KK_RESIZE_SCRATCH 8192
#define KK_RESIZE_WEIGHT_BITS 11
#define KK_RESIZE_ONE (1 << KK_RESIZE_WEIGHT_BITS)

/* Source index i0 (0 <= i0 < src_size) and 11-bit weight f (0 <= f < 2048,
 * f == 0 whenever i0 == src_size - 1) of the sample under output index d. */
void kk_resize_coord (size_t d, size_t src_size, size_t dst_size, size_t *i0, uint32_t *f);

static inline int16_t
kk_resize_vblend (uint8_t s0, uint8_t s1, uint32_t fy)
{
  return (int16_t) (((int32_t) s0 * (int32_t) (KK_RESIZE_ONE - fy) + (int32_t) s1 * (int32_t) fy + 8) >> 4);
}

/* w = (2048 - fx) | fx << 16 */
static inline uint8_t
kk_resize_hblend (int16_t v0, int16_t v1, uint32_t w)
{
  return (uint8_t) (((int32_t) v0 * (int32_t) (w & 0xffff) + (int32_t) v1 * (int32_t) (w >> 16)
                     + (1 << 17)) >> 18);
}

/* The micro-kernels an ISA provides.
 *   vpass: v[i] = vblend (s0[i], s1[i], fy) for i < n (bytes).
 *   hpass: for each output pixel i < n and channel c < C,
 *          dst[i*C + c] = hblend (v[ofs[i] + c], v[ofs[i] + C + c], w[i]);
 *          ofs[i] is in int16 elements (x0 - span start) * C. */
typedef void (*kk_resize_vpass_fn) (const uint8_t *s0, const uint8_t *s1, int16_t *v, size_t n,
                                    uint32_t fy);
typedef void (*kk_resize_hpass_fn) (const int16_t *v, const int32_t *ofs, const uint32_t *w,
                                    uint8_t *dst, size_t n);

typedef struct {
  kk_resize_vpass_fn vpass;
  kk_resize_hpass_fn hpass_c1, hpass_c3, hpass_c4;
} kk_resize_ukernels;

/* The shared driver: chunks, tables, rows. Ignores calls with channels not
 * 1, 3 or 4 or with an empty source; clamps row_end to dst_h. */
void kk_resize_bilinear_u8_run (const kk_resize_ukernels *uk,
                                const uint8_t *src, size_t src_w, size_t src_h, size_t src_stride,
                                uint8_t *dst, size_t dst_w, size_t dst_h, size_t dst_stride,
                                size_t channels, size_t row_begin, size_t row_end);

#define KK_RESIZE_DECLARE_ISA(isa)                                                                \
  void kk_resize_vpass_u8s16__##isa (const uint8_t *s0, const uint8_t *s1, int16_t *v, size_t n, \
                                     uint32_t fy);                                               \
  void kk_resize_hpass_s16u8c1__##isa (const int16_t *v, const int32_t *ofs, const uint32_t *w,   \
                                       uint8_t *dst, size_t n);                                   \
  void kk_resize_hpass_s16u8c3__##isa (const int16_t *v, const int32_t *ofs, const uint32_t *w,   \
                                       uint8_t *dst, size_t n);                                   \
  void kk_resize_hpass_s16u8c4__##isa (const int16_t *v, const int32_t *ofs, const uint32_t *w,   \
                                       uint8_t *dst, size_t n);                                   \
  void kk_resize_bilinear_u8__##isa (const uint8_t *src, size_t src_w, size_t src_h,             \
                                     size_t src_stride, uint8_t *dst, size_t dst_w, size_t dst_h, \
                                     size_t dst_stride, size_t channels, size_t row_begin,        \
                                     size_t row_end)

KK_RESIZE_DECLARE_ISA (scalar);
#if KK_ARCH_X86
KK_RESIZE_DECLARE_ISA (sse42);
KK_RESIZE_DECLARE_ISA (avx2);
KK_RESIZE_DECLARE_ISA (avx512);
#endif
#if KK_ARCH_ARM64
KK_RESIZE_DECLARE_ISA (neon);
#endif

/* Each ISA file defines its entry point with this, over its micro-kernels. */
#define KK_RESIZE_DEFINE_ENTRY(isa, vp, h1, h3, h4)                                               \
  void kk_resize_bilinear_u8__##isa (const uint8_t *src, size_t src_w, size_t src_h,             \
                                     size_t src_stride, uint8_t *dst, size_t dst_w, size_t dst_h, \
                                     size_t dst_stride, size_t channels, size_t row_begin,        \
                                     size_t row_end)                                              \
  {                                                                                               \
    static const kk_resize_ukernels uk = { vp, h1, h3, h4 };                                      \
    kk_resize_bilinear_u8_run (&uk, src, src_w, src_h, src_stride, dst, dst_w, dst_h, dst_stride, \
                               channels, row_begin, row_end);                                     \
  }
