/* qdwconv-scalar.c — the reference int8 depthwise convolution (test oracle,
 * rollback path). */
#include "qdwconv.h"

static void
pixel (const kk_qdwconv_params *p, const kk_qdwconv_taps *t, uint8_t *o)
{
  kk_qdwconv_pixel_scalar (p, t, 0, p->channels, o);
}

void
kk_qdwconv_u8_nhwc_scalar (const kk_qdwconv_params *p, const uint8_t *in, uint8_t *out,
                           size_t row_begin, size_t row_end)
{
  KK_QDWCONV_FOR_EACH_PIXEL (p, in, out, row_begin, row_end, pixel);
}
