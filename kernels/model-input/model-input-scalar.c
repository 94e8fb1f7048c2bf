/* model-input-scalar.c — the reference: the shared per-pixel formula
 * (kk_mi_pixel_chan) over every column. Every other ISA is tested against
 * it, and it is tested against a double-precision implementation.
 *
 * It is also the rollback path users run, so it is instantiated per channel
 * order and layout: with the byte positions constant the compiler keeps the
 * channel loop unrolled and the pixel in registers.
 */
#include "model-input.h"

static const size_t chan_rgb[3] = { 0, 1, 2 };
static const size_t chan_bgr[3] = { 2, 1, 0 };
static const size_t chan_gray[3] = { 0, 0, 0 };

void
kk_model_input_row_u8_f32__scalar (const kk_mi_row *row, const kk_mi_cols *cols)
{
  const size_t *chan;

  switch (cols->format)
    {
    case KK_PIXEL_GRAY8:
      chan = chan_gray;
      break;
    case KK_PIXEL_BGRA8:
    case KK_PIXEL_BGRX8:
      chan = chan_bgr;
      break;
    case KK_PIXEL_RGB8:
    case KK_PIXEL_RGBA8:
    case KK_PIXEL_COUNT:
    default:
      chan = chan_rgb;
      break;
    }

#define ROW(c, l) kk_mi_pixels_chan (row, cols, 0, cols->n, c, l)
  if (cols->layout == KK_LAYOUT_NHWC)
    {
      if (chan == chan_rgb)
        ROW (chan_rgb, KK_LAYOUT_NHWC);
      else if (chan == chan_bgr)
        ROW (chan_bgr, KK_LAYOUT_NHWC);
      else
        ROW (chan_gray, KK_LAYOUT_NHWC);
    }
  else
    {
      if (chan == chan_rgb)
        ROW (chan_rgb, KK_LAYOUT_NCHW);
      else if (chan == chan_bgr)
        ROW (chan_bgr, KK_LAYOUT_NCHW);
      else
        ROW (chan_gray, KK_LAYOUT_NCHW);
    }
#undef ROW
}

void
kk_model_input_u8_f32__scalar (const kk_image_view *src, float *dst,
                               const kk_model_input_params *params, size_t row_begin, size_t row_end)
{
  kk_mi_run (src, dst, params, row_begin, row_end, kk_model_input_row_u8_f32__scalar);
}
