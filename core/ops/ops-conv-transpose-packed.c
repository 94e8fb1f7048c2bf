/* ops-conv-transpose-packed.c — kestrel.ConvTransposePacked: a 2-D
 * ConvTranspose with constant weights, one group, explicit pads, as a
 * gemm and a scatter (col2im).
 *
 * Each input pixel's channels times W (Cin x Cout*kh*kw, the weights'
 * own layout) give that pixel's contribution to a kh x kw patch of every
 * output channel: one gemm over all input pixels (rows of the input,
 * transposed to NHWC in step scratch) on the packed-gemm kernels. Then
 * each output channel's plane starts from its bias and adds up the
 * patches that land in it; planes are disjoint, so the threads share the
 * channels without locks. When stride = kernel (the usual 2x upsampling)
 * no patches overlap, and each input row goes through all three stages
 * on its own, on the stack (row_tiles()). The fast passes (core/graph/kestrel-passes-fast.c)
 * choose it at simd and full for the upsampling layers of detectors and
 * segmenters (PaddleOCR's detector spent a third of its time in them).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-ops-registry.h"

/* Input pixels handed to the gemm per work item. */
#define ROWS_PER_CHUNK 48

/* The stack floats of one piece of an input row in the tiles path (see
 * row_tiles()): the piece's pixels in NHWC and their gemm results. */
#define ROW_PIECE_FLOATS 12288

typedef struct {
  gsize n, cin, in_h, in_w, cout, out_h, out_w;
  gsize kh, kw, sh, sw, dh, dw;
  gint64 pad_top, pad_left;
  gsize cols;                  /* Cout * kh * kw: the gemm's N */
  float *packed;
  float *bias;                 /* Cout values, zeros without a bias input */
  gsize x_floats;              /* the NHWC copy of the input, rounded up to 16 */
  /* Stride = kernel, no dilation, padding or extra output: every output
   * pixel is one tap of one input pixel, so an input row's patches tile
   * its own band of output rows (see col2im_tiles()). */
  gboolean tiles;
  gsize piece;                 /* tiles: input pixels per row piece (row_tiles()) */
} ConvTransposePacked;

static gboolean
conv_transpose_packed_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  /* The attributes, inputs and output of an ONNX ConvTranspose. */
  return kestrel_op_lookup ("", "ConvTranspose", graph->opset)->infer (graph, node, error);
}

static void
conv_transpose_packed_free (gpointer data)
{
  ConvTransposePacked *s = data;

  g_free (s->packed);
  g_free (s->bias);
  g_free (s);
}

static gint64
attr_at (const KestrelNode *node, const char *name, guint i, gint64 fallback)
{
  guint n = 0;
  const gint64 *values = kestrel_node_attr_ints (node, name, &n);

  return values != NULL && i < n ? values[i] : fallback;
}

static gboolean
supported (const KestrelNode *node)
{
  const char *auto_pad = kestrel_node_attr_string (node, "auto_pad", "NOTSET");
  guint n_out_shape = 0;

  kestrel_node_attr_ints (node, "output_shape", &n_out_shape);
  return kestrel_node_attr_int (node, "group", 1) == 1 && n_out_shape == 0
         && (strcmp (auto_pad, "NOTSET") == 0 || strcmp (auto_pad, "VALID") == 0);
}

static gboolean
conv_transpose_packed_prepare (KestrelStep *step, GError **error)
{
  const KestrelNode *node = step->node;
  const KestrelTensorView *x = &step->inputs[0], *w = &step->inputs[1], *y = &step->outputs[0];
  ConvTransposePacked *s = g_new0 (ConvTransposePacked, 1);
  const kk_kernels *k = step->kernels;
  gboolean valid = strcmp (kestrel_node_attr_string (node, "auto_pad", "NOTSET"), "VALID") == 0;

  step->state = s;
  step->free_state = conv_transpose_packed_free;
  if (x->n_dims != 4 || w->n_dims != 4 || w->data == NULL || !supported (node))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "kestrel.ConvTransposePacked takes a 2-D ConvTranspose with constant weights, "
                              "one group and explicit pads");
      return FALSE;
    }
  s->n = x->shape[0];
  s->cin = x->shape[1];
  s->in_h = x->shape[2];
  s->in_w = x->shape[3];
  s->cout = y->shape[1];
  s->out_h = y->shape[2];
  s->out_w = y->shape[3];
  s->kh = w->shape[2];
  s->kw = w->shape[3];
  s->sh = attr_at (node, "strides", 0, 1);
  s->sw = attr_at (node, "strides", 1, 1);
  s->dh = attr_at (node, "dilations", 0, 1);
  s->dw = attr_at (node, "dilations", 1, 1);
  s->pad_top = valid ? 0 : attr_at (node, "pads", 0, 0);
  s->pad_left = valid ? 0 : attr_at (node, "pads", 1, 0);
  s->cols = s->cout * s->kh * s->kw;

  s->packed = g_new (float, k->gemm_f32_packed_size (s->cin, s->cols));
  k->gemm_f32_pack_b (w->data, s->cin, s->cols, false, s->packed);
  s->bias = g_new0 (float, s->cout);
  if (step->n_inputs > 2 && step->inputs[2].data != NULL)
    memcpy (s->bias, step->inputs[2].data, s->cout * sizeof (float));

  s->tiles = s->sh == s->kh && s->sw == s->kw && s->dh == 1 && s->dw == 1 && s->pad_top == 0
             && s->pad_left == 0 && s->out_h == s->in_h * s->sh && s->out_w == s->in_w * s->sw;
  s->x_floats = (x->n_elements + 15) & ~(gsize) 15;
  if (s->tiles && s->cin + s->cols <= ROW_PIECE_FLOATS)
    s->piece = MIN (s->in_w, ROW_PIECE_FLOATS / (s->cin + s->cols));
  else
    s->tiles = FALSE;
  if (!s->tiles)
    step->scratch_bytes = (s->x_floats + s->n * s->in_h * s->in_w * s->cols) * sizeof (float);
  return TRUE;
}

typedef struct {
  const KestrelStep *step;
  float *x_nhwc, *cols;
} Run;

/* Work items: (image, channel) planes of the input, written as pixel rows. */
static void
to_nhwc (gsize begin, gsize end, guint worker, gpointer data)
{
  const Run *r = data;
  const ConvTransposePacked *s = r->step->state;
  const float *x = r->step->inputs[0].data;
  gsize plane = s->in_h * s->in_w;

  for (gsize item = begin; item < end; item++)
    {
      gsize img = item / s->cin, c = item % s->cin;
      const float *src = x + item * plane;
      float *dst = r->x_nhwc + img * plane * s->cin + c;
      for (gsize p = 0; p < plane; p++)
        dst[p * s->cin] = src[p];
    }
}

static void
gemm_chunks (gsize begin, gsize end, guint worker, gpointer data)
{
  const Run *r = data;
  const ConvTransposePacked *s = r->step->state;
  const kk_gemm_epilogue none = { .lo = -INFINITY, .hi = INFINITY };
  gsize pixels = s->n * s->in_h * s->in_w;

  for (gsize chunk = begin; chunk < end; chunk++)
    {
      gsize p0 = chunk * ROWS_PER_CHUNK, rows = MIN (ROWS_PER_CHUNK, pixels - p0);
      r->step->kernels->gemm_f32 (rows, s->cols, s->cin, r->x_nhwc + p0 * s->cin, s->cin, s->packed,
                                  r->cols + p0 * s->cols, s->cols, &none);
    }
}

/* Work items: (image, output channel) planes, each its bias plus every
 * patch landing in it. */
static void
col2im (gsize begin, gsize end, guint worker, gpointer data)
{
  const Run *r = data;
  const ConvTransposePacked *s = r->step->state;
  float *y = r->step->outputs[0].data;
  gsize taps = s->kh * s->kw;

  for (gsize item = begin; item < end; item++)
    {
      gsize img = item / s->cout, co = item % s->cout;
      float *out = y + item * s->out_h * s->out_w;
      const float *cols = r->cols + img * s->in_h * s->in_w * s->cols + co * taps;

      for (gsize i = 0; i < s->out_h * s->out_w; i++)
        out[i] = s->bias[co];
      for (gsize iy = 0; iy < s->in_h; iy++)
        for (gsize ky = 0; ky < s->kh; ky++)
          {
            gint64 oy = (gint64) (iy * s->sh + ky * s->dh) - s->pad_top;
            if (oy < 0 || oy >= (gint64) s->out_h)
              continue;
            float *out_row = out + oy * s->out_w;
            for (gsize ix = 0; ix < s->in_w; ix++)
              {
                const float *patch = cols + (iy * s->in_w + ix) * s->cols + ky * s->kw;
                for (gsize kx = 0; kx < s->kw; kx++)
                  {
                    gint64 ox = (gint64) (ix * s->sw + kx * s->dw) - s->pad_left;
                    if (ox >= 0 && ox < (gint64) s->out_w)
                      out_row[ox] += patch[kx];
                  }
              }
          }
    }
}

/* The whole step when patches tile the output (s->tiles: stride = kernel,
 * so every output pixel is one tap of one input pixel). Work items:
 * (image, input row), each writing its own kh output rows of every
 * channel, bias + the one tap that lands there (the same sum as col2im()'s),
 * a piece of the row at a time with everything on the stack: the piece's
 * pixels gathered to NHWC, their gemm, and the scatter, which writes each
 * output row in order. Going through the whole image at each stage
 * (transpose, gemm, scatter) sent the gemm's result (PaddleOCR's detector:
 * 2.4 MB) out of the caches and back. */
static void
row_tiles (gsize begin, gsize end, guint worker, gpointer data)
{
  const Run *r = data;
  const KestrelStep *step = r->step;
  const ConvTransposePacked *s = step->state;
  const kk_gemm_epilogue none = { .lo = -INFINITY, .hi = INFINITY };
  const float *x = step->inputs[0].data;
  float *y = step->outputs[0].data;
  const gsize taps = s->kh * s->kw, plane = s->out_h * s->out_w, in_plane = s->in_h * s->in_w;
  float buf[ROW_PIECE_FLOATS];
  float *xt = buf, *patches = buf + s->piece * s->cin;

  for (gsize item = begin; item < end; item++)
    {
      const gsize img = item / s->in_h, iy = item % s->in_h;
      const float *x_row = x + img * s->cin * in_plane + iy * s->in_w;
      float *out = y + img * s->cout * plane + iy * s->kh * s->out_w;

      for (gsize ix0 = 0; ix0 < s->in_w; ix0 += s->piece)
        {
          const gsize count = MIN (s->piece, s->in_w - ix0);

          for (gsize c = 0; c < s->cin; c++)
            {
              const float *src = x_row + c * in_plane + ix0;
              for (gsize p = 0; p < count; p++)
                xt[p * s->cin + c] = src[p];
            }
          step->kernels->gemm_f32 (count, s->cols, s->cin, xt, s->cin, s->packed, patches, s->cols,
                                   &none);
          for (gsize co = 0; co < s->cout; co++)
            for (gsize ky = 0; ky < s->kh; ky++)
              {
                const float bias = s->bias[co];
                const float *t = patches + co * taps + ky * s->kw;
                float *o = out + co * plane + ky * s->out_w + ix0 * s->kw;
                if (s->kw == 2)
                  for (gsize p = 0; p < count; p++)
                    {
                      o[2 * p] = bias + t[p * s->cols];
                      o[2 * p + 1] = bias + t[p * s->cols + 1];
                    }
                else
                  for (gsize p = 0; p < count; p++)
                    for (gsize kx = 0; kx < s->kw; kx++)
                      o[p * s->kw + kx] = bias + t[p * s->cols + kx];
              }
        }
    }
}

static void
conv_transpose_packed_run (const KestrelStep *step)
{
  const ConvTransposePacked *s = step->state;
  Run r = { step, NULL, NULL };
  gsize pixels = s->n * s->in_h * s->in_w;

  if (s->tiles)
    {
      kestrel_step_parallel_for (step, s->n * s->in_h, row_tiles, &r);
      return;
    }
  r.x_nhwc = step->scratch;
  r.cols = (float *) step->scratch + s->x_floats;
  kestrel_step_parallel_for (step, s->n * s->cin, to_nhwc, &r);
  kestrel_step_parallel_for (step, (pixels + ROWS_PER_CHUNK - 1) / ROWS_PER_CHUNK, gemm_chunks, &r);
  kestrel_step_parallel_for (step, s->n * s->cout, col2im, &r);
}

static const KestrelOpDef op_conv_transpose_packed = {
  .domain = "kestrel",
  .op_type = "ConvTransposePacked",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = conv_transpose_packed_infer,
  .prepare = conv_transpose_packed_prepare,
  .run = conv_transpose_packed_run,
};

const KestrelOpDef *const kestrel_ops_conv_transpose_packed[] = {
  &op_conv_transpose_packed,
  NULL,
};
