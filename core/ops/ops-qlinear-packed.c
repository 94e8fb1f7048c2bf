/* ops-qlinear-packed.c — kestrel.QLinearConvPacked and
 * kestrel.QLinearMatMulPacked: ONNX's QLinearConv and QLinearMatMul on
 * Kestrel's integer kernels (the qgemm: u8 x s8, s32 sums, fused
 * requantisation), bit for bit what the reference loops of
 * ops-qlinear-{conv,gemm}.c give.
 *
 * Same inputs, attributes and output as the ONNX operators. The planning
 * pass (graph/kestrel-passes-qlinear.c) puts them in at simd and full
 * when kestrel_qlinear_packable() says the node fits:
 *
 *  - u8 activations and output, s8 weights in [-127, 127] (the kernels'
 *    range) with zero points 0, scales, zero points, weights and bias
 *    constant; activations, output per tensor, weights per tensor or per
 *    output channel / column;
 *  - a Conv 2-D with one group (depthwise and grouped convolutions stay on
 *    the reference loop), K = Cin * kh * kw <= KK_QGEMM_MAX_K;
 *  - the requantisation exact. ONNX rounds acc * multiplier (the float32
 *    a_scale * b_scale / y_scale, the product in double) half to even;
 *    the kernels compute floor ((acc * M + 2^(shift-1)) / 2^shift), half
 *    up, on the exact product. They agree on every sum when (1) M / 2^shift
 *    is the float32 multiplier exactly (it has 24 significant bits; a
 *    channel much smaller than the largest can lose bits to the shared
 *    shift), (2) the double product is exact (|acc| < 2^29, bounded from
 *    the constant weights and bias: |acc| <= |bias| + 255 * sum |w|), and
 *    (3) no sum can land on a tie: with multiplier = odd / 2^t, a product
 *    ends in exactly .5 only when 2^(t-1) divides acc, so |acc| < 2^(t-1)
 *    rules ties out. Scales a quantizer writes (24-bit mantissas, t around
 *    30) pass; round scales like 0.5 or 1/16 fail (3) and stay on the
 *    reference loop, which rounds their ties to even.
 *
 * The convolution works in NHWC inside its step: the input is transposed
 * into scratch, the output pixels go through the qgemm (pointwise
 * directly, others through im2col tiles on the worker's stack, the
 * padding the input zero point: a real 0), and the NHWC result is
 * transposed into the NCHW output. Every result is exact integer
 * arithmetic, so levels and thread splits give the same bits.
 */
#include "config.h"

#include "kestrel-qlinear-packed.h"
#include "ops-nn.h"
#include "ops-qlinear.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

#define GEMM_ROWS_PER_CHUNK 48
#define IM2COL_BYTES 65536
#define SCRATCH_ALIGN 64

/* ---- When the kernels are exact -------------------------------------------- */

/* Fills multiplier[0..n) and *shift for the float32 multipliers mult[]
 * given each output's bound max_acc[] on |acc|; FALSE with *why when the
 * kernels' rounding could differ from ONNX's (see the top of the file). */
static gboolean
requant_exact (const float *mult, const gint64 *max_acc, gsize n, gint32 *multiplier, guint32 *shift,
               const char **why)
{
  g_autofree double *d = g_new (double, MAX (n, 1));

  for (gsize c = 0; c < n; c++)
    d[c] = mult[c];
  if (!kk_requant_from_scales (d, n, multiplier, shift))
    {
      *why = "a requantisation multiplier is out of the kernels' range (not below 0.25)";
      return FALSE;
    }
  for (gsize c = 0; c < n; c++)
    {
      guint t;

      if (multiplier[c] <= 0 || (double) multiplier[c] != ldexp (d[c], (int) *shift))
        {
          *why = "a requantisation multiplier is not exact at the kernels' shared shift";
          return FALSE;
        }
      if (max_acc[c] >= (G_GINT64_CONSTANT (1) << 29))
        {
          *why = "the sums may reach 2^29, where ONNX's double product rounds";
          return FALSE;
        }
      /* multiplier = odd / 2^t */
      t = *shift - (guint) __builtin_ctz ((guint32) multiplier[c]);
      if (t >= 1 && t - 1 < 62 && (G_GINT64_CONSTANT (1) << (t - 1)) <= max_acc[c])
        {
          *why = "a sum could land on a rounding tie (ONNX rounds it to even, the kernels up)";
          return FALSE;
        }
    }
  return TRUE;
}

/* Everything the packed operators need, read from constants: the weights
 * as [n_out][k] or [k][n_out] s8 (w_is_nk), the float32 multipliers and
 * the sums' bounds. */
typedef struct {
  gboolean conv;
  const gint8 *w;
  gsize k, n_out;
  gboolean w_is_nk;
  const gint32 *bias;       /* or NULL */
  guint8 x_zp, y_zp;
  float *mult;              /* [n_out] */
  gint64 *max_acc;          /* [n_out] */
} PackedParams;

static void
packed_params_clear (PackedParams *p)
{
  g_free (p->mult);
  g_free (p->max_acc);
}

/* The node's inputs as values (graph time) or views (plan time) differ;
 * both come down to these arrays. */
typedef struct {
  KestrelDType dtype;
  guint n_dims;
  const gint64 *shape;
  gsize n;
  gconstpointer data;       /* NULL when not a constant */
} Operand;

static Operand
operand_of_value (const KestrelGraph *graph, const KestrelNode *node, guint i)
{
  const KestrelValue *v = kestrel_graph_value (graph, kestrel_node_input (node, i));
  Operand o = { 0 };

  if (v == NULL)
    return o;
  o.dtype = v->dtype;
  o.n_dims = v->n_dims;
  o.shape = v->shape;
  o.n = kestrel_value_n_elements (v);
  o.data = v->constant != NULL ? kestrel_tensor_get_data (v->constant) : NULL;
  return o;
}

/* Checks operands 0..8 (QLinearConv / QLinearMatMul order) and fills p. */
static gboolean
packed_params (gboolean conv, const Operand *in, guint n_in, gint64 group, KestrelDType y_dtype,
               PackedParams *p, const char **why)
{
  const Operand *x = &in[0], *xs = &in[1], *xz = &in[2], *w = &in[3], *ws = &in[4], *wz = &in[5];
  const Operand *ys = &in[6], *yz = &in[7], *b = n_in > 8 ? &in[8] : NULL;
  float x_scale, y_scale;

  memset (p, 0, sizeof *p);
  p->conv = conv;
  if (x->dtype != KESTREL_DTYPE_UINT8 || y_dtype != KESTREL_DTYPE_UINT8)
    return (*why = "the activations are not u8"), FALSE;
  if (w->dtype != KESTREL_DTYPE_INT8 || w->data == NULL)
    return (*why = "the weights are not constant s8"), FALSE;
  /* (an omitted zero point is 0: n == 0) */
  if (xs->data == NULL || ys->data == NULL || ws->data == NULL || (xz->n > 0 && xz->data == NULL)
      || (yz->n > 0 && yz->data == NULL) || (wz->n > 0 && wz->data == NULL) || xs->n != 1 || ys->n != 1
      || xz->n > 1 || yz->n > 1)
    return (*why = "the scales and zero points are not constant, or not per tensor"), FALSE;
  if (conv && (group != 1 || w->n_dims != 4))
    return (*why = "the convolution is not 2-D with one group"), FALSE;
  if (!conv && w->n_dims != 2)
    return (*why = "B is not a 2-D matrix"), FALSE;
  if (b != NULL && b->n > 0 && b->data == NULL)
    return (*why = "the bias is not constant"), FALSE;

  p->n_out = conv ? (gsize) w->shape[0] : (gsize) w->shape[1];
  p->k = w->n / MAX (p->n_out, 1);
  p->w_is_nk = conv;
  p->w = w->data;
  p->bias = b != NULL && b->n > 0 ? b->data : NULL;
  p->x_zp = xz->n > 0 ? *(const guint8 *) xz->data : 0;
  p->y_zp = yz->n > 0 ? *(const guint8 *) yz->data : 0;
  if (p->k > KK_QGEMM_MAX_K)
    return (*why = "the reduction is longer than the kernels take"), FALSE;
  for (gsize c = 0; c < wz->n; c++)
    if (((const gint8 *) wz->data)[c] != 0)
      return (*why = "a weight zero point is not 0"), FALSE;

  x_scale = *(const float *) xs->data;
  y_scale = *(const float *) ys->data;
  p->mult = g_new (float, MAX (p->n_out, 1));
  p->max_acc = g_new0 (gint64, MAX (p->n_out, 1));
  for (gsize c = 0; c < p->n_out; c++)
    {
      float m = x_scale * ((const float *) ws->data)[ws->n == 1 ? 0 : c];
      p->mult[c] = m / y_scale;
      if (p->bias != NULL)
        {
          if (ABS ((gint64) p->bias[c]) > KK_QGEMM_MAX_ABS_BIAS)
            return (*why = "a bias is beyond the kernels' range"), FALSE;
          p->max_acc[c] = ABS ((gint64) p->bias[c]);
        }
    }
  for (gsize i = 0; i < w->n; i++)
    {
      gint8 v = p->w[i];
      gsize c = conv ? i / p->k : i % p->n_out;
      if (v == -128)
        return (*why = "a weight is -128 (the kernels take -127 .. 127)"), FALSE;
      p->max_acc[c] += 255 * ABS ((gint64) v);
    }
  return TRUE;
}

static gboolean
requant_fits (const PackedParams *p, const char **why)
{
  g_autofree gint32 *m = g_new (gint32, MAX (p->n_out, 1));
  guint32 shift;

  return requant_exact (p->mult, p->max_acc, p->n_out, m, &shift, why);
}

gboolean
kestrel_qlinear_packable (const KestrelGraph *graph, const KestrelNode *node, const char **why)
{
  gboolean conv = strcmp (node->op_type, "QLinearConv") == 0;
  Operand in[9] = { 0 };
  guint n_in = MIN (kestrel_node_n_inputs (node), 9);
  const KestrelValue *y = kestrel_graph_value (graph, kestrel_node_output (node, 0));
  PackedParams p;
  gboolean ok;

  if (node->domain[0] != '\0' || (!conv && strcmp (node->op_type, "QLinearMatMul") != 0) || y == NULL
      || !y->has_shape)
    return (*why = "not a QLinearConv or QLinearMatMul"), FALSE;
  for (guint i = 0; i < n_in; i++)
    in[i] = operand_of_value (graph, node, i);
  if (conv && in[0].n_dims != 4)
    return (*why = "the convolution is not 2-D"), FALSE;
  ok = packed_params (conv, in, n_in, kestrel_node_attr_int (node, "group", 1), y->dtype, &p, why)
       && requant_fits (&p, why);
  packed_params_clear (&p);
  return ok;
}

/* ---- The packed operators ---------------------------------------------------- */

typedef struct {
  gboolean conv;
  gsize k, n_out;
  void *packed;
  gint32 *multiplier;
  kk_requant rq;
  /* MatMul: rows of A */
  gsize rows;
  /* Conv: geometry, and where the NHWC copies go in scratch */
  KestrelConvGeometry geo;
  gint64 n, cin, in_h, in_w, out_h, out_w;
  gboolean pointwise;
  gsize tile_rows;
  gsize y_offset;
  guint8 x_zp;
} PackedState;

static void
packed_state_free (gpointer data)
{
  PackedState *s = data;

  g_free (s->packed);
  g_free (s->multiplier);
  g_free (s);
}

static gboolean
packed_prepare (KestrelStep *step, gboolean conv, GError **error)
{
  const KestrelNode *node = step->node;
  const kk_kernels *k = step->kernels;
  PackedState *s = g_new0 (PackedState, 1);
  Operand in[9] = { 0 };
  guint n_in = MIN (step->n_inputs, 9);
  g_autofree gint8 *khwc = NULL;
  const gint8 *weights;
  const char *why = NULL;
  PackedParams p;

  step->state = s;
  step->free_state = packed_state_free;
  for (guint i = 0; i < n_in; i++)
    {
      const KestrelTensorView *v = &step->inputs[i];
      in[i] = (Operand) { v->dtype, v->n_dims, v->shape, v->n_elements, v->data };
    }
  if (!packed_params (conv, in, n_in, kestrel_node_attr_int (node, "group", 1), step->outputs[0].dtype, &p, &why))
    {
      packed_params_clear (&p);
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED, "does not fit the integer kernels: %s", why);
      return FALSE;
    }
  s->conv = conv;
  s->k = p.k;
  s->n_out = p.n_out;
  s->x_zp = p.x_zp;
  s->multiplier = g_new (gint32, MAX (p.n_out, 1));
  if (!requant_exact (p.mult, p.max_acc, p.n_out, s->multiplier, &s->rq.shift, &why))
    {
      packed_params_clear (&p);
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED, "does not fit the integer kernels: %s", why);
      return FALSE;
    }
  s->rq.multiplier = s->multiplier;
  s->rq.zero_point = p.y_zp;
  s->rq.lo = 0;
  s->rq.hi = 255;
  weights = p.w;

  if (conv)
    {
      const KestrelTensorView *x = &step->inputs[0], *w = &step->inputs[3];
      gint64 in_spatial[2] = { x->shape[2], x->shape[3] };
      gsize x_bytes;

      if (!kestrel_op_conv_geometry (node, 2, in_spatial, &w->shape[2], FALSE, &s->geo, error))
        {
          packed_params_clear (&p);
          return FALSE;
        }
      s->n = x->shape[0];
      s->cin = x->shape[1];
      s->in_h = x->shape[2];
      s->in_w = x->shape[3];
      s->out_h = s->geo.out[0];
      s->out_w = s->geo.out[1];
      s->pointwise = s->geo.kernel[0] == 1 && s->geo.kernel[1] == 1 && s->geo.stride[0] == 1
                     && s->geo.stride[1] == 1 && s->geo.pad_begin[0] == 0 && s->geo.pad_begin[1] == 0
                     && s->geo.pad_end[0] == 0 && s->geo.pad_end[1] == 0;
      if (!s->pointwise)
        {
          khwc = kestrel_op_weights_to_khwc (weights, 1, p.n_out, s->cin, s->geo.kernel[0], s->geo.kernel[1]);
          weights = khwc;
          s->tile_rows = MAX (1, MIN (64, IM2COL_BYTES / s->k));
        }
      x_bytes = (gsize) (s->n * s->in_h * s->in_w * s->cin);
      s->y_offset = (x_bytes + SCRATCH_ALIGN - 1) / SCRATCH_ALIGN * SCRATCH_ALIGN;
      step->scratch_bytes = s->y_offset + (gsize) (s->n * s->out_h * s->out_w) * p.n_out;
    }
  else
    s->rows = step->inputs[0].n_elements / MAX (p.k, 1);

  s->packed = g_malloc (k->qgemm_u8s8_packed_size (p.k, p.n_out));
  k->qgemm_u8s8_pack (weights, p.k, p.n_out, p.w_is_nk, p.bias, p.x_zp, s->packed);
  packed_params_clear (&p);
  return TRUE;
}

/* ---- QLinearMatMulPacked ---------------------------------------------------- */

static gboolean
matmul_packed_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return kestrel_op_qlinear_matmul.infer (graph, node, error);
}

static gboolean
matmul_packed_prepare (KestrelStep *step, GError **error)
{
  return packed_prepare (step, FALSE, error);
}

static void
matmul_packed_chunks (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const PackedState *s = step->state;

  for (gsize chunk = begin; chunk < end; chunk++)
    {
      gsize r0 = chunk * GEMM_ROWS_PER_CHUNK, rows = MIN (GEMM_ROWS_PER_CHUNK, s->rows - r0);
      step->kernels->qgemm_u8s8_requant (rows, s->n_out, s->k, (const guint8 *) step->inputs[0].data + r0 * s->k,
                                         s->k, s->packed, (guint8 *) step->outputs[0].data + r0 * s->n_out,
                                         s->n_out, &s->rq);
    }
}

static void
matmul_packed_run (const KestrelStep *step)
{
  const PackedState *s = step->state;

  kestrel_step_parallel_for (step, (s->rows + GEMM_ROWS_PER_CHUNK - 1) / GEMM_ROWS_PER_CHUNK,
                             matmul_packed_chunks, (gpointer) step);
}

const KestrelOpDef kestrel_op_qlinear_matmul_packed = {
  .domain = "kestrel", .op_type = "QLinearMatMulPacked", .min_opset = 1, .max_opset = G_MAXINT64,
  .infer = matmul_packed_infer, .prepare = matmul_packed_prepare, .run = matmul_packed_run,
};

/* ---- QLinearConvPacked ------------------------------------------------------ */

static gboolean
conv_packed_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  return kestrel_op_qlinear_conv.infer (graph, node, error);
}

static gboolean
conv_packed_prepare (KestrelStep *step, GError **error)
{
  return packed_prepare (step, TRUE, error);
}

/* Items are (image, input row): NCHW x into NHWC scratch. */
static void
conv_to_nhwc (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const PackedState *s = step->state;
  const guint8 *x = step->inputs[0].data;
  guint8 *t = step->scratch;

  for (gsize item = begin; item < end; item++)
    {
      gsize img = item / s->in_h, h = item % s->in_h;
      const guint8 *src = x + img * s->cin * s->in_h * s->in_w + h * s->in_w;
      guint8 *dst = t + item * s->in_w * s->cin;

      for (gint64 c = 0; c < s->cin; c++)
        for (gint64 w = 0; w < s->in_w; w++)
          dst[w * s->cin + c] = src[c * s->in_h * s->in_w + w];
    }
}

/* Items are chunks of output pixels: im2col (or the pixels as they are)
 * and the qgemm into the NHWC result in scratch. */
static void
conv_gemm (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const PackedState *s = step->state;
  const guint8 *x = step->scratch;
  guint8 *y = (guint8 *) step->scratch + s->y_offset;
  gsize m_total = s->n * s->out_h * s->out_w, per = s->pointwise ? GEMM_ROWS_PER_CHUNK : s->tile_rows;
  _Alignas (64) guint8 tile[IM2COL_BYTES];

  for (gsize t = begin; t < end; t++)
    {
      gsize m0 = t * per, rows = MIN (per, m_total - m0);

      if (s->pointwise)
        step->kernels->qgemm_u8s8_requant (rows, s->n_out, s->k, x + m0 * s->cin, s->cin, s->packed,
                                           y + m0 * s->n_out, s->n_out, &s->rq);
      else
        {
          const KestrelIm2col im = { &s->geo, s->cin, 1, s->x_zp };
          kestrel_op_im2col_rows (&im, x, m0, rows, tile);
          step->kernels->qgemm_u8s8_requant (rows, s->n_out, s->k, tile, s->k, s->packed,
                                             y + m0 * s->n_out, s->n_out, &s->rq);
        }
    }
}

/* Items are (image, output channel): the NHWC result into NCHW y. */
static void
conv_to_nchw (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const PackedState *s = step->state;
  const guint8 *t = (const guint8 *) step->scratch + s->y_offset;
  guint8 *y = step->outputs[0].data;
  gsize plane = s->out_h * s->out_w;

  for (gsize item = begin; item < end; item++)
    {
      gsize img = item / s->n_out, c = item % s->n_out;
      const guint8 *src = t + img * plane * s->n_out + c;
      guint8 *dst = y + item * plane;

      for (gsize i = 0; i < plane; i++)
        dst[i] = src[i * s->n_out];
    }
}

static void
conv_packed_run (const KestrelStep *step)
{
  const PackedState *s = step->state;
  gsize m_total = s->n * s->out_h * s->out_w, per = s->pointwise ? GEMM_ROWS_PER_CHUNK : s->tile_rows;

  kestrel_step_parallel_for (step, s->n * s->in_h, conv_to_nhwc, (gpointer) step);
  kestrel_step_parallel_for (step, (m_total + per - 1) / per, conv_gemm, (gpointer) step);
  kestrel_step_parallel_for (step, s->n * s->n_out, conv_to_nchw, (gpointer) step);
}

const KestrelOpDef kestrel_op_qlinear_conv_packed = {
  .domain = "kestrel", .op_type = "QLinearConvPacked", .min_opset = 1, .max_opset = G_MAXINT64,
  .infer = conv_packed_infer, .prepare = conv_packed_prepare, .run = conv_packed_run,
};
