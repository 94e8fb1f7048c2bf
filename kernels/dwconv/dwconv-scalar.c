/* dwconv-scalar.c — the reference depthwise convolution (the test oracle and
 * the rollback path).
 *
 * Per output element: bias first, then the in-bounds taps in (ky, kx) order,
 * one multiply and one add each (the build forbids contraction into FMA),
 * then the clamp. The output pixel itself is the accumulator so that the
 * innermost loop runs along contiguous channels; that changes nothing in the
 * order of operations of any one element.
 */
#include "dwconv.h"
#include "eltwise/eltwise.h"

void
kk_dwconv_f32_nhwc_scalar (const kk_dwconv_params *p, const float *in, float *out,
                           size_t row_begin, size_t row_end)
{
  const size_t C = p->channels;

  row_end = kk_dwconv_rows_end (p, row_end);
  for (size_t r = row_begin; r < row_end; r++)
    {
      const kk_dwconv_row row = kk_dwconv_row_at (p, in, out, r);
      float *o = row.out_row;

      for (size_t ox = 0; ox < p->out_w; ox++, o += C)
        {
          const ptrdiff_t ix0 = (ptrdiff_t) (ox * p->stride_w) - (ptrdiff_t) p->pad_left;
          size_t kx_lo, kx_hi;

          kk_window_tap_range (ix0, p->kernel_w, p->dilation_w, p->in_w, &kx_lo, &kx_hi);
          for (size_t c = 0; c < C; c++)
            o[c] = p->bias != NULL ? p->bias[c] : 0.0f;

          for (size_t ky = row.ky_lo; ky < row.ky_hi; ky++)
            {
              const size_t iy = (size_t) (row.iy0 + (ptrdiff_t) (ky * p->dilation_h));

              for (size_t kx = kx_lo; kx < kx_hi; kx++)
                {
                  const size_t ix = (size_t) (ix0 + (ptrdiff_t) (kx * p->dilation_w));
                  const float *x = row.image + (iy * p->in_w + ix) * C;
                  const float *w = p->weights + (ky * p->kernel_w + kx) * C;

                  for (size_t c = 0; c < C; c++)
                    o[c] = o[c] + x[c] * w[c];
                }
            }

          for (size_t c = 0; c < C; c++)
            o[c] = kk_clamp_f32_1 (o[c], p->lo, p->hi);
        }
    }
}
