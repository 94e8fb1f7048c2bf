/* pool-scalar.c — the reference max pooling (test oracle, rollback path).
 * The output pixel is the accumulator so the inner loop runs along
 * contiguous channels; each element still sees its taps in (ky, kx) order. */
#include "pool.h"

#include <math.h>

void
kk_maxpool_f32_nhwc_scalar (const kk_pool_params *p, const float *in, float *out,
                            size_t row_begin, size_t row_end)
{
  const size_t C = p->channels;

  row_end = kk_pool_rows_end (p, row_end);
  for (size_t r = row_begin; r < row_end; r++)
    {
      const kk_pool_row row = kk_pool_row_at (p, in, out, r);
      float *o = row.out_row;

      for (size_t ox = 0; ox < p->out_w; ox++, o += C)
        {
          const kk_pool_taps t = kk_pool_pixel_taps (p, &row, ox);

          for (size_t c = 0; c < C; c++)
            o[c] = -INFINITY;
          for (size_t i = 0; i < t.ny; i++)
            for (size_t j = 0; j < t.nx; j++)
              {
                const float *x = t.x + i * t.x_row + j * t.x_col;
                for (size_t c = 0; c < C; c++)
                  o[c] = x[c] > o[c] ? x[c] : o[c];
              }
        }
    }
}
