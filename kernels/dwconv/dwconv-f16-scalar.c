/* dwconv-f16-scalar.c — the reference depthwise convolution with FP16
 * weights (the test oracle, and the version of the scalar and SSE4.2
 * tables). Per output: bias, then the in-bounds taps in (ky, kx) order, each
 * by fmaf on the widened half, then the clamp (dwconv-f16.h). */
#include "dwconv-f16.h"
#include "convert/convert.h"
#include "eltwise/eltwise.h"

#include <math.h>

void
kk_dwconv_f16_nhwc_scalar (const kk_dwconv_params *p, const uint16_t *weights, const float *in,
                           float *out, size_t row_begin, size_t row_end)
{
  const size_t C = p->channels;

  row_end = kk_dwconv_rows_end (p, row_end);
  for (size_t r = row_begin; r < row_end; r++)
    {
      const kk_dwconv_row row = kk_dwconv_row_at (p, in, out, r);
      float *o = row.out_row;

      for (size_t ox = 0; ox < p->out_w; ox++, o += C)
        {
          const kk_dwconv_f16_taps t = kk_dwconv_f16_pixel_taps (p, &row, weights, ox);

          for (size_t c = 0; c < C; c++)
            o[c] = p->bias != NULL ? p->bias[c] : 0.0f;
          for (size_t i = 0; i < t.ny; i++)
            for (size_t j = 0; j < t.nx; j++)
              {
                const float *x = t.x + i * t.x_row + j * t.x_col;
                const uint16_t *w = t.w + i * t.w_row + j * C;

                for (size_t c = 0; c < C; c++)
                  o[c] = fmaf (x[c], kk_f16_to_f32_one (w[c]), o[c]);
              }
          for (size_t c = 0; c < C; c++)
            o[c] = kk_clamp_f32_1 (o[c], p->lo, p->hi);
        }
    }
}
