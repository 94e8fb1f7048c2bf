/* model-input.h — internal to the model-input family.
 *
 * The fused preprocess (frame -> float tensor) is split in two so that every
 * instruction set samples exactly the same source pixels with exactly the same
 * weights:
 *
 * - model-input.c (scalar flags) owns the geometry: the content rectangle
 *   (letterbox), the per-column taps and weights (kk_mi_cols, computed in
 *   column chunks on the stack, never on the heap), the per-row taps and
 *   weights (kk_mi_row), and the pad fill. kk_mi_run() drives it all.
 * - each ISA file provides one row function (kk_mi_row_fn) that turns one
 *   row of one column chunk into floats, using only what kk_mi_row and
 *   kk_mi_cols say. Columns the ISA's wide loads cannot reach safely, and
 *   any remainder it chooses not to vectorise, go through kk_mi_pixels(),
 *   the shared scalar formula below.
 *
 * The formula (the reference; SIMD versions may fuse the multiply-adds):
 *   left  = top[x0] * a[c] + bottom[x0] * b[c]       a = scale (1 - wy), b = scale wy
 *   right = top[x1] * a[c] + bottom[x1] * b[c]
 *   out   = left * w0 + right * w1 + offset[c]        w0 = 1 - wx, w1 = wx
 * which is the bilinear sample times scale plus offset, up to float rounding:
 * the scalar version is within 2e-6 of a double-precision implementation,
 * and the SIMD versions within 1e-5 of the scalar one, both relative to the
 * largest |output| (so absolute for a [-1, 1] tensor; measured: 3.3e-7 and
 * 3e-7, SSE4.2 bit-exact since it has no FMA). tests/kernels checks both.
 */
#pragma once

#include "kk-internal.h"

#include <stdint.h>
#include <string.h>

/* Columns per chunk of the column table. A tensor at most this wide (every
 * common model input) needs one chunk, so the table is built once per call.
 * The table lives on the stack: (4 + 16 + 16) * (256 + 16) bytes, under
 * 10 KiB. */
#define KK_MI_CHUNK 256
/* The table has KK_MI_GROUP - 1 entries past n repeating column n - 1, so
 * when every column of a chunk is SIMD-safe a vector loop may run its last
 * group whole (up to 16 pixels) and only trim its stores. */
#define KK_MI_GROUP 16

typedef struct {
  /* source layout */
  kk_pixel_format format;
  size_t bpp;                 /* bytes per source pixel */
  size_t right;               /* bytes from the left tap to the right tap: bpp, or 0 when the frame is 1 wide */
  uint8_t chan[3];            /* byte index of R, G, B inside a pixel (0,0,0 for gray) */
  /* pshufb/tbl control bytes that turn one pixel's 16 loaded bytes (the top
   * pair from byte 0, the bottom pair from byte 8, kk_mi_pair_bytes each)
   * into four int32 lanes R, G, B, 0 of one tap: [0] top-left, [1] top-right,
   * [2] bottom-left, [3] bottom-right. 0x80 yields zero on x86 and, being
   * >= 16, on NEON's tbl too. Here so every ISA agrees on which byte is which
   * channel. */
  uint8_t ctl[4][16];
  /* destination layout */
  kk_layout layout;
  size_t plane;               /* NCHW: floats between two channel planes (W * H) */
  /* this chunk */
  size_t n;                   /* columns */
  size_t n_simd;              /* leading columns whose pair load (kk_mi_pair_bytes) stays inside the row */
  uint32_t ofs[KK_MI_CHUNK + KK_MI_GROUP];  /* byte offset of the left tap in the source row */
  /* 1 - wx and wx of column i, each repeated in [4 i .. 4 i + 3]: one copy
   * per R, G, B, 0 lane, so vector code gets a pixel's weights (or 2 or 4
   * adjacent pixels') with one plain load instead of a broadcast shuffle. */
  float w0[4 * (KK_MI_CHUNK + KK_MI_GROUP)];
  float w1[4 * (KK_MI_CHUNK + KK_MI_GROUP)];
} kk_mi_cols;

typedef struct {
  const uint8_t *top, *bottom;  /* source rows y0 and y1 */
  float a[4], b[4];             /* scale[c] * (1 - wy), scale[c] * wy; [3] is 0 */
  float offset[4];              /* [3] is 0 */
  float *dst;                   /* output of the chunk's first column: NHWC &t[y][x][0], NCHW &t[0][y][x] */
} kk_mi_row;

typedef void (*kk_mi_row_fn) (const kk_mi_row *row, const kk_mi_cols *cols);

/* How many bytes a SIMD version may load from a left tap to get both taps of
 * one source row: 8 for 4-byte pixels (exactly two), 8 for RGB8 (two pixels
 * plus two bytes of slack, hence the safety limit), 2 for gray. A column is
 * SIMD-safe when ofs + this <= width * bpp, so no load ever leaves the row. */
static inline size_t
kk_mi_pair_bytes (kk_pixel_format format)
{
  return format == KK_PIXEL_GRAY8 ? 2 : 8;
}

/* The shared formula for one column i of a row: out[c] for R, G, B, whose
 * bytes sit at chan[c] inside a source pixel. Inlined with constant chan by
 * the scalar version, with the table's chan by the SIMD tails. */
static inline __attribute__ ((always_inline)) void
kk_mi_pixel_chan (const kk_mi_row *r, const kk_mi_cols *c, size_t i, const size_t chan[3], float out[3])
{
  const uint8_t *t = r->top + c->ofs[i];
  const uint8_t *b = r->bottom + c->ofs[i];
  const size_t rt = c->right;
  const float w0 = c->w0[4 * i], w1 = c->w1[4 * i];

  for (int ch = 0; ch < 3; ch++)
    {
      const size_t k = chan[ch];
      float left = (float) t[k] * r->a[ch] + (float) b[k] * r->b[ch];
      float right = (float) t[rt + k] * r->a[ch] + (float) b[rt + k] * r->b[ch];
      out[ch] = left * w0 + right * w1 + r->offset[ch];
    }
}

/* Columns [begin, end) of a row, stored in the chunk's layout. */
static inline __attribute__ ((always_inline)) void
kk_mi_pixels_chan (const kk_mi_row *r, const kk_mi_cols *c, size_t begin, size_t end,
                   const size_t chan[3], kk_layout layout)
{
  float *const dst = r->dst;
  const size_t plane = c->plane;

  for (size_t i = begin; i < end; i++)
    {
      float v[3];
      kk_mi_pixel_chan (r, c, i, chan, v);
      if (layout == KK_LAYOUT_NHWC)
        {
          dst[3 * i + 0] = v[0];
          dst[3 * i + 1] = v[1];
          dst[3 * i + 2] = v[2];
        }
      else
        {
          dst[i] = v[0];
          dst[plane + i] = v[1];
          dst[2 * plane + i] = v[2];
        }
    }
}

/* The same for any format and layout: the SIMD versions' tails. */
static inline void
kk_mi_pixels (const kk_mi_row *r, const kk_mi_cols *c, size_t begin, size_t end)
{
  const size_t chan[3] = { c->chan[0], c->chan[1], c->chan[2] };
  kk_mi_pixels_chan (r, c, begin, end, chan, c->layout);
}

/* Drives one call: pads, builds the column table chunk by chunk and calls
 * row_fn for each content row in [row_begin, row_end). */
void kk_mi_run (const kk_image_view *src, float *dst, const kk_model_input_params *params,
                size_t row_begin, size_t row_end, kk_mi_row_fn row_fn);

/* Row functions, one per ISA (XNNPACK-style names: op, types, ISA). */
void kk_model_input_row_u8_f32__scalar (const kk_mi_row *row, const kk_mi_cols *cols);
void kk_model_input_row_u8_f32__sse42 (const kk_mi_row *row, const kk_mi_cols *cols);
void kk_model_input_row_u8_f32__avx2 (const kk_mi_row *row, const kk_mi_cols *cols);
void kk_model_input_row_u8_f32__avx512 (const kk_mi_row *row, const kk_mi_cols *cols);
void kk_model_input_row_u8_f32__neon (const kk_mi_row *row, const kk_mi_cols *cols);

/* Table entries: kk_mi_run with that ISA's row function. */
void kk_model_input_u8_f32__scalar (const kk_image_view *src, float *dst,
                                    const kk_model_input_params *params, size_t row_begin, size_t row_end);
void kk_model_input_u8_f32__sse42 (const kk_image_view *src, float *dst,
                                   const kk_model_input_params *params, size_t row_begin, size_t row_end);
void kk_model_input_u8_f32__avx2 (const kk_image_view *src, float *dst,
                                  const kk_model_input_params *params, size_t row_begin, size_t row_end);
void kk_model_input_u8_f32__avx512 (const kk_image_view *src, float *dst,
                                    const kk_model_input_params *params, size_t row_begin, size_t row_end);
void kk_model_input_u8_f32__neon (const kk_image_view *src, float *dst,
                                  const kk_model_input_params *params, size_t row_begin, size_t row_end);
