/* model-input.c — geometry, taps and weights shared by every ISA, the pad
 * fill, the driver, and the table fill.
 *
 * Sampling: a tensor pixel (x, y) inside the content rectangle (cx, cy,
 * cw, ch) reads the frame at
 *   fx = (x - cx + 0.5) * src_w / cw - 0.5     (likewise fy)
 * i.e. half-pixel centres, clamped to [0, src_w - 1]. Stretching (no
 * letterbox) is the content rectangle covering the whole tensor.
 *
 * Letterbox: the frame is scaled by s = min (W / src_w, H / src_h); the
 * limiting side fills the tensor exactly and the other side is rounded to a
 * whole number of tensor pixels (half up, at least 1), so every tensor pixel
 * is either all frame or all pad, and the frame is sampled exactly as a plain
 * resize to cw x ch would. The rectangle is centred, any odd pixel of slack
 * going to the right / bottom. kk_model_input_geometry_compute reports
 * scale = cw / src_w (ch / src_h) and pad = cx (cy), so
 * tensor = frame * scale + pad holds exactly for the sampling above.
 *
 * A frame that cannot be sampled (no data, zero size, unknown format,
 * stride shorter than a row) gives rows of pad values, so a broken frame
 * never leaves stale numbers in the tensor.
 */
#include "model-input.h"

typedef struct {
  size_t x, y, w, h;
} kk_mi_rect;

static bool
frame_ok (const kk_image_view *src)
{
  if (src == NULL || src->data == NULL || src->width == 0 || src->height == 0)
    return false;
  size_t bpp = kk_pixel_format_channels (src->format);
  if (bpp == 0 || src->width > UINT32_MAX / bpp - 8)
    return false;  /* column offsets are stored in 32 bits */
  if (src->height > 1 && src->stride < src->width * bpp)
    return false;
  return true;
}

static void
content_rect (size_t src_w, size_t src_h, const kk_model_input_params *p, kk_mi_rect *r)
{
  const size_t W = p->width, H = p->height;

  if (!p->letterbox)
    {
      *r = (kk_mi_rect) { 0, 0, W, H };
      return;
    }
  /* Integer arithmetic: the side that limits the scale, and the rounded
   * length of the other, must not depend on float rounding. */
  size_t w, h;
  if (W * src_h <= H * src_w)
    {
      w = W;
      h = (2 * src_h * W + src_w) / (2 * src_w);
      h = h < 1 ? 1 : h > H ? H : h;
    }
  else
    {
      h = H;
      w = (2 * src_w * H + src_h) / (2 * src_h);
      w = w < 1 ? 1 : w > W ? W : w;
    }
  *r = (kk_mi_rect) { (W - w) / 2, (H - h) / 2, w, h };
}

void
kk_model_input_geometry_compute (size_t src_width, size_t src_height,
                                 const kk_model_input_params *params,
                                 kk_model_input_geometry *out)
{
  if (out == NULL)
    return;
  /* Nothing to map: identity, so a decoder dividing by scale stays finite. */
  *out = (kk_model_input_geometry) { 1.0f, 1.0f, 0.0f, 0.0f };
  if (params == NULL || src_width == 0 || src_height == 0 || params->width == 0 || params->height == 0)
    return;

  kk_mi_rect r;
  content_rect (src_width, src_height, params, &r);
  out->scale_x = (float) ((double) r.w / (double) src_width);
  out->scale_y = (float) ((double) r.h / (double) src_height);
  out->pad_x = (float) r.x;
  out->pad_y = (float) r.y;
}

/* The tap and weight of output index j over a source of length len, where
 * step = len / n for n outputs (the same rule for columns and rows). The
 * left tap is kept at most len - 2, with weight 1 at the clamped right edge,
 * so both taps of a pair load exist whenever len >= 2. */
static void
tap (size_t j, double step, size_t len, size_t *t0, double *w)
{
  double f = ((double) j + 0.5) * step - 0.5;

  if (len == 1 || f <= 0.0)
    {
      *t0 = 0;
      *w = 0.0;
    }
  else if (f >= (double) (len - 1))
    {
      *t0 = len - 2;
      *w = 1.0;
    }
  else
    {
      *t0 = (size_t) f;
      *w = f - (double) *t0;
    }
}

static void
cols_init (kk_mi_cols *c, const kk_image_view *src, const kk_model_input_params *p)
{
  static const uint8_t order_rgb[3] = { 0, 1, 2 }, order_bgr[3] = { 2, 1, 0 }, order_gray[3] = { 0, 0, 0 };
  const uint8_t *order;

  c->format = src->format;
  c->bpp = kk_pixel_format_channels (src->format);
  c->right = src->width > 1 ? c->bpp : 0;
  switch (src->format)
    {
    case KK_PIXEL_BGRA8:
    case KK_PIXEL_BGRX8:
      order = order_bgr;
      break;
    case KK_PIXEL_GRAY8:
      order = order_gray;
      break;
    case KK_PIXEL_RGB8:
    case KK_PIXEL_RGBA8:
    case KK_PIXEL_COUNT:
    default:
      order = order_rgb;
      break;
    }
  memcpy (c->chan, order, 3);

  /* uint16 lanes x0.R, x1.R, x0.G, x1.G, x0.B, x1.B, 0, 0 (high bytes 0). */
  memset (c->ctl, 0x80, sizeof c->ctl);
  for (int ch = 0; ch < 3; ch++)
    {
      c->ctl[4 * ch] = order[ch];
      c->ctl[4 * ch + 2] = (uint8_t) (c->right + order[ch]);
    }

  c->layout = p->layout;
  c->plane = p->width * p->height;
}

/* Column i's weights: KK_MI_ONE - w1 and w1, for R, G, B, then 0 0. */
static void
set_weights (kk_mi_cols *c, size_t i, int16_t w1)
{
  int16_t *w = c->wx + 8 * i;

  for (int ch = 0; ch < 3; ch++)
    {
      w[2 * ch] = (int16_t) (KK_MI_ONE - w1);
      w[2 * ch + 1] = w1;
    }
  w[6] = w[7] = 0;
}

/* Columns [c0, c0 + n) of a content rectangle cw wide. */
static void
cols_chunk (kk_mi_cols *c, size_t src_w, size_t cw, size_t c0, size_t n)
{
  const size_t limit = src_w * c->bpp;
  const size_t pair = KK_MI_PAIR_BYTES;
  const double step = (double) src_w / (double) cw;
  size_t n_simd = 0;

  for (size_t i = 0; i < n; i++)
    {
      size_t x0;
      double w;
      tap (c0 + i, step, src_w, &x0, &w);
      c->ofs[i] = (uint32_t) (x0 * c->bpp);
      set_weights (c, i, (int16_t) (w * KK_MI_ONE + 0.5));  /* w in [0, 1]: round half up */
      /* Safe columns form a prefix: offsets never decrease. */
      if (src_w >= 2 && x0 * c->bpp + pair <= limit && n_simd == i)
        n_simd++;
    }
  c->n = n;
  c->n_simd = n_simd;
  /* Padding for whole vector groups, only meaningful when every column is
   * safe: it repeats the last column, which is then safe too. */
  for (size_t i = n; i < n + KK_MI_GROUP - 1 && i < KK_MI_CHUNK + KK_MI_GROUP; i++)
    {
      c->ofs[i] = n > 0 ? c->ofs[n - 1] : 0;
      set_weights (c, i, n > 0 ? c->wx[8 * (n - 1) + 1] : 0);
    }
}

static void
fill_pad (float *dst, const kk_model_input_params *p, size_t y, size_t x_begin, size_t x_end)
{
  const size_t W = p->width;

  if (p->layout == KK_LAYOUT_NHWC)
    {
      float *d = dst + 3 * (y * W);
      for (size_t x = x_begin; x < x_end; x++)
        {
          d[3 * x + 0] = p->pad[0];
          d[3 * x + 1] = p->pad[1];
          d[3 * x + 2] = p->pad[2];
        }
    }
  else
    {
      const size_t plane = W * p->height;
      for (int ch = 0; ch < 3; ch++)
        {
          float *d = dst + ch * plane + y * W;
          for (size_t x = x_begin; x < x_end; x++)
            d[x] = p->pad[ch];
        }
    }
}

void
kk_mi_run (const kk_image_view *src, float *dst, const kk_model_input_params *p,
           size_t row_begin, size_t row_end, kk_mi_row_fn row_fn)
{
  if (dst == NULL || p == NULL || p->width == 0 || p->height == 0)
    return;
  if (row_end > p->height)
    row_end = p->height;
  if (row_begin >= row_end)
    return;

  const size_t W = p->width;
  if (!frame_ok (src))
    {
      for (size_t y = row_begin; y < row_end; y++)
        fill_pad (dst, p, y, 0, W);
      return;
    }

  kk_mi_rect r;
  content_rect (src->width, src->height, p, &r);

  /* Pad first: rows above and below the content, and the side bars. */
  size_t y_begin = row_begin > r.y ? row_begin : r.y;
  size_t y_end = row_end < r.y + r.h ? row_end : r.y + r.h;
  for (size_t y = row_begin; y < row_end; y++)
    {
      if (y < r.y || y >= r.y + r.h)
        fill_pad (dst, p, y, 0, W);
      else if (r.w < W)
        {
          fill_pad (dst, p, y, 0, r.x);
          fill_pad (dst, p, y, r.x + r.w, W);
        }
    }
  if (y_begin >= y_end)
    return;

  kk_mi_cols cols;
  cols_init (&cols, src, p);
  const size_t px_stride = p->layout == KK_LAYOUT_NHWC ? 3 : 1;
  const double step_y = (double) src->height / (double) r.h;
  const size_t row_stride = p->layout == KK_LAYOUT_NHWC ? 3 * W : W;
  /* scale / KK_MI_ONE once per call: a division per channel and row costs
   * as much as a small tensor's sampling. */
  double unit[3];
  for (int ch = 0; ch < 3; ch++)
    unit[ch] = (double) p->scale[ch] / KK_MI_ONE;

  /* Rows inside the column chunk loop: the table is built once per chunk
   * (once per call for tensors up to KK_MI_CHUNK wide). */
  for (size_t c0 = 0; c0 < r.w; c0 += KK_MI_CHUNK)
    {
      size_t n = r.w - c0 < KK_MI_CHUNK ? r.w - c0 : KK_MI_CHUNK;
      cols_chunk (&cols, src->width, r.w, c0, n);

      size_t y0, next_y0;
      double wy, next_wy;
      tap (y_begin - r.y, step_y, src->height, &next_y0, &next_wy);
      for (size_t y = y_begin; y < y_end; y++)
        {
          kk_mi_row row;

          y0 = next_y0;
          wy = next_wy;
          row.top = src->data + y0 * src->stride;
          row.bottom = src->height > 1 ? row.top + src->stride : row.top;
          /* The next row's sources, for row functions that prefetch. */
          if (y + 1 < y_end)
            tap (y + 1 - r.y, step_y, src->height, &next_y0, &next_wy);
          row.next_top = src->data + next_y0 * src->stride;
          row.next_bottom = src->height > 1 ? row.next_top + src->stride : row.next_top;
          for (int ch = 0; ch < 3; ch++)
            {
              row.a[ch] = (float) (unit[ch] * (1.0 - wy));
              row.b[ch] = (float) (unit[ch] * wy);
              row.offset[ch] = p->offset[ch];
            }
          row.a[3] = row.b[3] = row.offset[3] = 0.0f;
          row.dst = dst + y * row_stride + (r.x + c0) * px_stride;
          row_fn (&row, &cols);
        }
    }
}

void
kk_model_input_fill (kk_kernels *table, kk_isa isa)
{
  table->model_input = kk_model_input_u8_f32__scalar;
#if KK_ARCH_X86
  if (kk_isa_includes (isa, KK_ISA_SSE42))
    table->model_input = kk_model_input_u8_f32__sse42;
  if (kk_isa_includes (isa, KK_ISA_AVX2))
    table->model_input = kk_model_input_u8_f32__avx2;
  if (kk_isa_includes (isa, KK_ISA_AVX512))
    table->model_input = kk_model_input_u8_f32__avx512;
#endif
#if KK_ARCH_ARM64
  if (kk_isa_includes (isa, KK_ISA_NEON))
    table->model_input = kk_model_input_u8_f32__neon;
#endif
}
