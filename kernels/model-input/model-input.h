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
 *   top    = t[x0] * W0 + t[x1] * W1            integers, W0 + W1 = KK_MI_ONE
 *   bottom = b[x0] * W0 + b[x1] * W1
 *   out    = (top * a[c] + offset[c]) + bottom * b[c]
 *            a = scale (1 - wy) / KK_MI_ONE, b = scale wy / KK_MI_ONE
 * i.e. the horizontal pass in 15-bit fixed point (exact integers, which is
 * what x86's pmaddwd computes in one instruction for a pixel's R, G, B) and
 * the vertical pass, scale and offset in float. top and bottom are below
 * 2^24, so converting them to float is exact. The only departure from exact
 * bilinear is the rounding of wx to a multiple of 1 / KK_MI_ONE: at most
 * 0.5 * 255 / 32767 = 0.0039 of an input level, times |scale| (3.1e-5 for a
 * [-1, 1] tensor), against 0.5 level for any path that rounds the resized
 * image to 8 bits. tests/kernels checks the scalar version against a double
 * precision bilinear with that bound (plus 2e-6 for float rounding), and the
 * SIMD versions against the scalar one within 1e-5 of the largest |output|
 * (they differ only by fused multiply-adds; SSE4.2 is bit-exact).
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
/* The sum of a column's two fixed-point weights: the largest that pmaddwd's
 * signed 16-bit operands hold. */
#define KK_MI_ONE 32767

typedef struct {
  /* source layout */
  kk_pixel_format format;
  size_t bpp;                 /* bytes per source pixel */
  size_t right;               /* bytes from the left tap to the right tap: bpp, or 0 when the frame is 1 wide */
  uint8_t chan[3];            /* byte index of R, G, B inside a pixel (0,0,0 for gray) */
  /* pshufb/tbl control bytes that turn the KK_MI_PAIR_BYTES loaded at a left
   * tap (in bytes 0..7 of a register) into eight uint16 lanes
   * x0.R, x1.R, x0.G, x1.G, x0.B, x1.B, 0, 0 — ready for one multiply-add
   * by the weights W0 W1 W0 W1 W0 W1 0 0. 0x80 yields zero on x86 and,
   * being >= 16, on NEON's tbl too. Here so every ISA agrees on which byte
   * is which channel (and gray is replicated). */
  uint8_t ctl[16];
  /* destination layout */
  kk_layout layout;
  size_t plane;               /* NCHW: floats between two channel planes (W * H) */
  /* this chunk */
  size_t n;                   /* columns */
  size_t n_simd;              /* leading columns whose pair load (KK_MI_PAIR_BYTES) stays inside the row */
  uint32_t ofs[KK_MI_CHUNK + KK_MI_GROUP];  /* byte offset of the left tap in the source row */
  /* W0 W1 W0 W1 W0 W1 0 0 of column i in [8 i .. 8 i + 7] (W0 + W1 =
   * KK_MI_ONE): lined up with ctl's lanes, so vector code gets a pixel's
   * weights (or 2 or 4 adjacent pixels') with one plain load. */
  _Alignas (64) int16_t wx[8 * (KK_MI_CHUNK + KK_MI_GROUP)];
} kk_mi_cols;

typedef struct {
  const uint8_t *top, *bottom;  /* source rows y0 and y1 */
  /* The next row's top and bottom (this row's at the last row of a call):
   * only to prefetch, never to read. */
  const uint8_t *next_top, *next_bottom;
  float a[4], b[4];             /* scale[c] * (1 - wy) / KK_MI_ONE, scale[c] * wy / KK_MI_ONE; [3] is 0 */
  float offset[4];              /* [3] is 0 */
  float *dst;                   /* output of the chunk's first column: NHWC &t[y][x][0], NCHW &t[0][y][x] */
} kk_mi_row;

typedef void (*kk_mi_row_fn) (const kk_mi_row *row, const kk_mi_cols *cols);

/* How many bytes a SIMD version loads from a left tap to get both taps of
 * one source row: 8 for every format (exactly two 4-byte pixels; two RGB8
 * pixels plus slack; two gray pixels plus more slack), one plain 64-bit load
 * with no format branch. A column is SIMD-safe when ofs + this <=
 * width * bpp, so no load ever leaves the row; the few columns near the
 * right edge that are not go through the scalar formula. */
#define KK_MI_PAIR_BYTES 8

/* Prefetch column i of the next tensor row's two source rows. Each tensor
 * row starts two new streams 5-6 source rows further down (720p into 128
 * rows), which the hardware prefetcher cannot guess, and the row's own
 * loads leave too little work in flight to hide L3 latency; fetching one
 * row ahead keeps the memory busy under the arithmetic. SIMD versions
 * call it once per 2 output pixels: at the downscales where it matters one
 * call per 2 columns still covers nearly every 64-byte line, and more calls
 * cost load slots. A prefetch never faults, but next_top is always a row of
 * the frame anyway. */
static inline void
kk_mi_prefetch (const kk_mi_row *r, const kk_mi_cols *c, size_t i)
{
  __builtin_prefetch (r->next_top + c->ofs[i], 0, 3);
  __builtin_prefetch (r->next_bottom + c->ofs[i], 0, 3);
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
  const int32_t w0 = c->wx[8 * i], w1 = c->wx[8 * i + 1];

  for (int ch = 0; ch < 3; ch++)
    {
      const size_t k = chan[ch];
      const int32_t top = t[k] * w0 + t[rt + k] * w1;
      const int32_t bottom = b[k] * w0 + b[rt + k] * w1;
      out[ch] = ((float) top * r->a[ch] + r->offset[ch]) + (float) bottom * r->b[ch];
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
