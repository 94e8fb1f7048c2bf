/* ops-fast.c — the engine's own NHWC operators for the SIMD levels.
 *
 * kestrel-passes-fast.c rewrites ONNX Conv and MaxPool (NCHW) into these,
 * with Transposes around them that then cancel out across the graph. In NHWC
 * the channels of a pixel are contiguous, which is what makes the kernels
 * fast: a 1x1 convolution is one gemm over all pixels, a depthwise one
 * vectorises across channels, and a dense one is a gemm over im2col rows.
 *
 *   kestrel.ConvNhwc     inputs X [N,H,W,Cin], W [Cout,Cin/g,kh,kw] (constant,
 *                        ONNX layout), optional B [Cout] (constant), optional
 *                        residual R [N,OH,OW,Cout]; attributes as ONNX Conv
 *                        plus act_lo / act_hi (the fused Relu/Clip), or
 *                        act (a string: the fused sigmoid, silu,
 *                        hardsigmoid, hardswish or leakyrelu) with
 *                        act_alpha / act_beta, and after that act_scale /
 *                        act_shift (a scalar Mul and Add the exporter put
 *                        after the activation, PaddleOCR's learnable ones).
 *                        Y = act (clamp (conv (X, W) + B + R, act_lo, act_hi))
 *                            * act_scale + act_shift
 *                        The activation runs on each block of output rows
 *                        right after the block is computed, while it is
 *                        still in cache.
 *   kestrel.MaxPoolNhwc  X [N,H,W,C]; attributes as ONNX MaxPool.
 *   kestrel.DwPwNhwc     a depthwise ConvNhwc feeding a pointwise one (the
 *                        MobileNet / BlazeFace block), in one pass over the
 *                        image. Inputs X [N,H,W,C], Wdw [C,1,kh,kw], optional
 *                        Bdw [C], Wpw [Cout,C,1,1], optional Bpw [Cout],
 *                        optional residual R [N,OH,OW,Cout] (all weights
 *                        constant); attributes: the depthwise Conv's, plus
 *                        dw_act_lo / dw_act_hi (its clamp) and act_lo /
 *                        act_hi (the clamp after the residual).
 *                        T = clamp (dwconv (X, Wdw) + Bdw, dw_act_lo, dw_act_hi)
 *                        Y = clamp (T * Wpw + Bpw + R, act_lo, act_hi)
 *                        T never reaches memory: see dw_pw_bands().
 *
 * Why one file of more than 800 lines: one operator group of the registry,
 * the NHWC operators the SIMD levels put in; they share their weight
 * packing, window maths and kernel tables.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"
#include "kestrel-op-util.h"
#include "kestrel-ops-registry.h"
#include "ops-quant.h"

/* Output pixels per im2col tile: the tile's rows live on the worker's stack
 * (IM2COL_FLOATS floats), so large kernels get fewer rows per tile. Pointwise
 * convolutions hand the gemm GEMM_ROWS_PER_CHUNK pixels per work item. */
#define IM2COL_FLOATS 16384
#define GEMM_ROWS_PER_CHUNK 48

typedef enum {
  CONV_POINTWISE,  /* 1x1, stride 1, no padding, one group: a gemm */
  CONV_DEPTHWISE,  /* one group per channel, multiplier 1 */
  CONV_IM2COL,     /* one group, any kernel: im2col tiles and a gemm */
  CONV_ROWS,       /* one group, no dilation across: a gemm per kernel row
                    * straight from the input, im2col at the borders */
  CONV_GROUPED,    /* anything else: direct loops */
} ConvPath;

typedef enum {
  CONV_ACT_NONE,       /* only the clamp */
  CONV_ACT_SIGMOID,
  CONV_ACT_SILU,       /* x * sigmoid (x) */
  CONV_ACT_HARD_SIGMOID,
  CONV_ACT_HARD_SWISH,
  CONV_ACT_LEAKY_RELU,
} ConvAct;

typedef struct {
  ConvPath path;
  ConvAct act;
  float act_alpha, act_beta;
  float act_scale, act_shift;   /* 1 and 0 when absent */
  kk_gemm_act gemm_act;         /* act as the FP32 gemm's epilogue applies it (gemm
                                 * paths: sigmoid, SiLU), or NONE: conv_act_apply's */
  gint64 n, in_h, in_w, cin, out_h, out_w, cout, group;
  KestrelConvGeometry geo;
  float lo, hi;
  gboolean has_residual;
  void *packed;           /* gemm-packed weights (floats, or halves when f16), or
                           * dwconv-packed, or [Cout][kh][kw][Cin/g] (floats) */
  gboolean f16;           /* the weights are packed as halves (gemm_f16, dwconv_f16_nhwc) */
  float *bias;            /* [Cout], zeros when the model has none */
  gsize k;                /* gemm depth: Cin (pointwise) or kh*kw*Cin (im2col) */
  gsize tile_rows;        /* im2col rows per tile */
  void *packed_rows;      /* CONV_ROWS: kh gemm-packed [kw*Cin][Cout], row_packed apart */
  gsize row_k, row_packed;
  gint64 x_lo, x_hi;      /* CONV_ROWS: output columns whose window is inside the input */
  kk_dwconv_params dw;
} ConvState;

static void
conv_state_free (gpointer data)
{
  ConvState *state = data;

  g_free (state->packed);
  g_free (state->packed_rows);
  g_free (state->bias);
  g_free (state);
}

/* FP16 plans (kestrel-passes-fp16.c) give the gemm layers float16 weights:
 * packed as halves, run by gemm_f16. These three keep that choice in one
 * place for ConvNhwc's gemm paths and DwPwNhwc. */
static gsize
gemm_packed_bytes (const kk_kernels *k, gboolean f16, gsize depth, gsize n)
{
  return f16 ? k->gemm_f16_packed_size (depth, n) * sizeof (guint16)
             : k->gemm_f32_packed_size (depth, n) * sizeof (float);
}

static void
gemm_pack (const kk_kernels *k, gboolean f16, const float *b, gsize depth, gsize n, void *packed)
{
  if (f16)
    k->gemm_f16_pack_b (b, depth, n, TRUE, packed);
  else
    k->gemm_f32_pack_b (b, depth, n, TRUE, packed);
}

static inline void
gemm_run (const kk_kernels *k, gboolean f16, gsize m, gsize n, gsize depth, const float *a, gsize lda,
          const void *packed, float *c, gsize ldc, const kk_gemm_epilogue *e)
{
  if (f16)
    k->gemm_f16 (m, n, depth, a, lda, packed, c, ldc, e);
  else
    k->gemm_f32 (m, n, depth, a, lda, packed, c, ldc, e);
}

/* Weights as floats: the tensor's own data, or float16 widened into a copy
 * the caller frees (*owned). */
static const float *
weights_as_floats (const KestrelTensorView *w, float **owned)
{
  *owned = NULL;
  if (w->dtype != KESTREL_DTYPE_FLOAT16)
    return w->data;
  gsize n = w->n_elements;
  *owned = g_new (float, MAX (n, 1));
  kk_kernels_get (KK_ISA_SCALAR)->f16_to_f32 (w->data, *owned, n);
  return *owned;
}

/* Depthwise weights packed [kh][kw][C] as the kernels keep them: halves
 * when the FP16 pass made them float16 (dwconv_f16_nhwc widens them as it
 * loads them), floats otherwise. */
static void *
dw_pack (const KestrelTensorView *w, gsize c, gsize kh, gsize kw)
{
  if (w->dtype == KESTREL_DTYPE_FLOAT16)
    {
      guint16 *packed = g_new (guint16, MAX (c * kh * kw, 1));
      kk_dwconv_f16_pack_weights (w->data, c, kh, kw, packed);
      return packed;
    }
  float *packed = g_new (float, MAX (c * kh * kw, 1));
  kk_dwconv_f32_pack_weights (w->data, c, kh, kw, packed);
  return packed;
}

static inline void
dw_run (const kk_kernels *k, const kk_dwconv_params *p, gboolean f16, const void *packed, const float *x,
        float *y, gsize begin, gsize end)
{
  if (f16)
    k->dwconv_f16_nhwc (p, packed, x, y, begin, end);
  else
    k->dwconv_f32_nhwc (p, x, y, begin, end);
}

/* Float32 weights, or float16 ones (FP16 plans). */
static gboolean
check_weights_dtype (const KestrelNode *node, guint i, const KestrelValue *w, GError **error)
{
  static const KestrelDType types[] = { KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_FLOAT16 };
  return kestrel_op_check_dtype (node, i, w, types, G_N_ELEMENTS (types), error);
}

static gboolean
conv_nhwc_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *w, *b = NULL, *r = NULL;
  KestrelConvGeometry geo;
  gint64 out[4];

  if (!kestrel_op_check_arity (node, 2, 4, 1, error)
      || !(x = kestrel_op_input (graph, node, 0, error))
      || !(w = kestrel_op_input (graph, node, 1, error))
      || !kestrel_op_check_float (node, 0, x, error)
      || !check_weights_dtype (node, 1, w, error))
    return FALSE;
  if (kestrel_node_input (node, 2) >= 0 && !(b = kestrel_op_input (graph, node, 2, error)))
    return FALSE;
  if (kestrel_node_input (node, 3) >= 0 && !(r = kestrel_op_input (graph, node, 3, error)))
    return FALSE;
  if (x->n_dims != 4 || w->n_dims != 4 || w->constant == NULL || (b != NULL && b->constant == NULL))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "expects a 4-D input and constant 4-D weights and bias");
      return FALSE;
    }
  gint64 group = kestrel_node_attr_int (node, "group", 1);
  if (group < 1 || x->shape[3] % group != 0 || w->shape[0] % group != 0
      || w->shape[1] * group != x->shape[3])
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "group %" G_GINT64_FORMAT " does not fit %" G_GINT64_FORMAT
                              " input channels and weights for %" G_GINT64_FORMAT " per group",
                              group, x->shape[3], w->shape[1]);
      return FALSE;
    }
  if (b != NULL && (b->n_dims != 1 || b->shape[0] != w->shape[0]))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "bias must have %" G_GINT64_FORMAT " values", w->shape[0]);
      return FALSE;
    }
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], &w->shape[2], FALSE, &geo, error))
    return FALSE;
  out[0] = x->shape[0];
  out[1] = geo.out[0];
  out[2] = geo.out[1];
  out[3] = w->shape[0];
  if (r != NULL && (r->n_dims != 4 || memcmp (r->shape, out, sizeof out) != 0))
    {
      g_autofree char *want = kestrel_shape_to_string (4, out);
      g_autofree char *got = kestrel_shape_to_string (r->n_dims, r->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "residual input is %s, expected %s", got, want);
      return FALSE;
    }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, 4, out);
  return TRUE;
}

/* CONV_ROWS. Without dilation across, the taps of one kernel row over one
 * output pixel are a contiguous run of kw * Cin input floats, and the runs
 * of neighbouring pixels are stride * Cin floats apart: for that kernel row
 * the output row is a gemm whose A is the input itself, with lda =
 * stride * Cin. So each output row is kh gemms (one per kernel row inside
 * the input), accumulated in the output through the epilogue's residual
 * (C read before it is stored), with bias (and residual) in the first and
 * the clamp in the last, and no im2col copy (for the 5x5 RGB layer, 25
 * floats written per input float). Only the columns whose window hangs
 * over the padding (x_lo and x_hi below) still go through im2col.
 *
 * The weights are packed once per kernel row: [Cout][kw*Cin] slices of the
 * [Cout][kh][kw][Cin] reorder. */
static void
prepare_conv_rows (ConvState *state, const kk_kernels *k, const float *khwc)
{
  const KestrelConvGeometry *geo = &state->geo;
  const gint64 kh = geo->kernel[0], kw = geo->kernel[1];
  g_autofree float *slice = NULL;
  gint64 last;

  state->path = CONV_ROWS;
  state->row_k = kw * state->cin;
  state->row_packed = gemm_packed_bytes (k, state->f16, state->row_k, state->cout);
  state->packed_rows = g_malloc (kh * state->row_packed);
  slice = g_new (float, state->cout * state->row_k);
  for (gint64 ky = 0; ky < kh; ky++)
    {
      for (gint64 o = 0; o < state->cout; o++)
        memcpy (slice + o * state->row_k, khwc + (o * kh + ky) * state->row_k,
                state->row_k * sizeof (float));
      gemm_pack (k, state->f16, slice, state->row_k, state->cout,
                 (guint8 *) state->packed_rows + ky * state->row_packed);
    }

  /* ox * stride - pad_left >= 0 and ox * stride - pad_left + kw <= in_w. */
  last = state->in_w + geo->pad_begin[1] - kw;
  state->x_lo = MIN ((geo->pad_begin[1] + geo->stride[1] - 1) / geo->stride[1], state->out_w);
  state->x_hi = last >= 0 ? MIN (last / geo->stride[1] + 1, state->out_w) : 0;
  state->x_hi = MAX (state->x_hi, state->x_lo);
}

static gboolean
conv_act_parse (const KestrelNode *node, ConvState *state, GError **error)
{
  static const struct { const char *name; ConvAct act; float alpha, beta; } acts[] = {
    { "sigmoid", CONV_ACT_SIGMOID, 0.0f, 0.0f },
    { "silu", CONV_ACT_SILU, 0.0f, 0.0f },
    { "hardsigmoid", CONV_ACT_HARD_SIGMOID, 0.2f, 0.5f },
    { "hardswish", CONV_ACT_HARD_SWISH, 1.0f / 6.0f, 0.5f },
    { "leakyrelu", CONV_ACT_LEAKY_RELU, 0.01f, 0.0f },
  };
  const char *name = kestrel_node_attr_string (node, "act", NULL);

  state->act = CONV_ACT_NONE;
  state->act_scale = kestrel_node_attr_float (node, "act_scale", 1.0f);
  state->act_shift = kestrel_node_attr_float (node, "act_shift", 0.0f);
  if (name == NULL)
    return TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (acts); i++)
    if (strcmp (name, acts[i].name) == 0)
      {
        state->act = acts[i].act;
        state->act_alpha = kestrel_node_attr_float (node, "act_alpha", acts[i].alpha);
        state->act_beta = kestrel_node_attr_float (node, "act_beta", acts[i].beta);
        return TRUE;
      }
  kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT, "unknown fused activation '%s'", name);
  return FALSE;
}

/* Hard sigmoid and hard swish in place: g = clamp (alpha * x + beta, 0, 1),
 * x = g or x * g; a multiply and an add, each rounded, as the reference
 * operators compute them (ops-math-unary.c), the clamp as clamp_f32's
 * (kernels/eltwise/eltwise.h: a NaN stays NaN). Eight lanes at a time with
 * GCC/Clang vector types (SSE2 pairs in this baseline-compiled library),
 * the same operations as the scalar tail, so every element gets the same
 * bits whichever part of the loop it falls in. */
typedef float Lanes8 __attribute__ ((vector_size (32)));
typedef gint32 Mask8 __attribute__ ((vector_size (32)));

static inline float
hard_gate_1 (float v, float alpha, float beta, gboolean times_x)
{
  float g = alpha * v + beta;

  g = g > 1.0f ? 1.0f : g;
  g = g < 0.0f ? 0.0f : g;
  return times_x ? v * g : g;
}

static void
hard_gate (float *y, gsize n, float alpha, float beta, gboolean times_x)
{
  const Lanes8 one = { 1, 1, 1, 1, 1, 1, 1, 1 }, zero = { 0 };
  const Lanes8 va = { alpha, alpha, alpha, alpha, alpha, alpha, alpha, alpha };
  const Lanes8 vb = { beta, beta, beta, beta, beta, beta, beta, beta };
  gsize i = 0;

  for (; i + 8 <= n; i += 8)
    {
      Lanes8 v, g;
      Mask8 above, below;

      memcpy (&v, y + i, sizeof v);
      g = va * v + vb;
      above = g > one;
      g = (Lanes8) (((Mask8) g & ~above) | ((Mask8) one & above));
      below = g < zero;
      g = (Lanes8) ((Mask8) g & ~below);
      if (times_x)
        g = v * g;
      memcpy (y + i, &g, sizeof g);
    }
  for (; i < n; i++)
    y[i] = hard_gate_1 (y[i], alpha, beta, times_x);
}

/* x * scale + shift in place, two roundings as the Mul and Add steps it
 * replaces. */
static void
scale_shift (float *y, gsize n, float scale, float shift)
{
  gsize i = 0;

  for (; i + 8 <= n; i += 8)
    {
      Lanes8 v;
      memcpy (&v, y + i, sizeof v);
      v = v * scale + shift;
      memcpy (y + i, &v, sizeof v);
    }
  for (; i < n; i++)
    y[i] = y[i] * scale + shift;
}

/* The fused activation on n outputs in place: sigmoid and SiLU from the
 * level's kernels, which differ from the reference operators
 * (ops-math-unary.c) by rounding; the others as above. */
static void
conv_act_apply (const KestrelStep *step, const ConvState *s, float *y, gsize n)
{
  const float alpha = s->act_alpha, beta = s->act_beta;

  switch (s->gemm_act != KK_GEMM_ACT_NONE ? CONV_ACT_NONE : s->act)
    {
    case CONV_ACT_NONE:
      break;
    case CONV_ACT_SIGMOID:
      step->kernels->sigmoid_f32 (y, y, n);
      break;
    case CONV_ACT_SILU:
      step->kernels->silu_f32 (y, y, n);
      break;
    case CONV_ACT_HARD_SIGMOID:
    case CONV_ACT_HARD_SWISH:
      /* At the SIMD levels the table's kernel (exact: the same bits as
       * hard_gate's, in vectors of the level's ISA); the reference levels
       * keep the loop below. */
      if (step->kernels->isa != KK_ISA_SCALAR)
        step->kernels->hard_gate_f32 (y, y, n, alpha, beta, s->act == CONV_ACT_HARD_SWISH);
      else
        hard_gate (y, n, alpha, beta, s->act == CONV_ACT_HARD_SWISH);
      break;
    case CONV_ACT_LEAKY_RELU:
      for (gsize i = 0; i < n; i++)
        y[i] = y[i] < 0.0f ? alpha * y[i] : y[i];
      break;
    default:
      g_assert_not_reached ();
    }
  if (s->act_scale != 1.0f || s->act_shift != 0.0f)
    {
      /* At the SIMD levels the same two roundings through binary_f32
       * (exact: one IEEE operation per element) in the level's vectors;
       * the reference levels keep the loop above. */
      if (step->kernels->isa != KK_ISA_SCALAR)
        {
          step->kernels->binary_f32 (KK_BINARY_MUL, y, 1, &s->act_scale, 0, y, n);
          step->kernels->binary_f32 (KK_BINARY_ADD, y, 1, &s->act_shift, 0, y, n);
        }
      else
        scale_shift (y, n, s->act_scale, s->act_shift);
    }
}

static gboolean
conv_nhwc_prepare (KestrelStep *step, GError **error)
{
  const KestrelNode *node = step->node;
  const KestrelTensorView *x = &step->inputs[0], *w = &step->inputs[1];
  ConvState *state = g_new0 (ConvState, 1);
  const kk_kernels *k = step->kernels;
  g_autofree float *widened = NULL;
  const float *weights = weights_as_floats (w, &widened);

  step->state = state;
  step->free_state = conv_state_free;
  state->f16 = w->dtype == KESTREL_DTYPE_FLOAT16;
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], &w->shape[2], FALSE, &state->geo, error))
    return FALSE;

  state->n = x->shape[0];
  state->in_h = x->shape[1];
  state->in_w = x->shape[2];
  state->cin = x->shape[3];
  state->out_h = state->geo.out[0];
  state->out_w = state->geo.out[1];
  state->cout = w->shape[0];
  state->group = kestrel_node_attr_int (node, "group", 1);
  state->lo = kestrel_node_attr_float (node, "act_lo", -INFINITY);
  state->hi = kestrel_node_attr_float (node, "act_hi", INFINITY);
  state->has_residual = kestrel_node_input (node, 3) >= 0;
  if (!conv_act_parse (node, state, error))
    return FALSE;
  state->bias = g_new0 (float, state->cout);
  if (kestrel_node_input (node, 2) >= 0)
    memcpy (state->bias, step->inputs[2].data, state->cout * sizeof (float));

  const KestrelConvGeometry *geo = &state->geo;
  gboolean unit = geo->kernel[0] == 1 && geo->kernel[1] == 1 && geo->stride[0] == 1
                  && geo->stride[1] == 1 && geo->pad_begin[0] == 0 && geo->pad_begin[1] == 0
                  && geo->pad_end[0] == 0 && geo->pad_end[1] == 0;

  if (state->group == 1 && unit)
    {
      state->path = CONV_POINTWISE;
      state->k = state->cin;
      state->packed = g_malloc (gemm_packed_bytes (k, state->f16, state->k, state->cout));
      gemm_pack (k, state->f16, weights, state->k, state->cout, state->packed);
    }
  else if (state->group == state->cin && state->cout == state->cin)
    {
      state->path = CONV_DEPTHWISE;
      state->packed = dw_pack (w, state->cin, geo->kernel[0], geo->kernel[1]);
      state->dw = (kk_dwconv_params) {
        .batch = state->n, .in_h = state->in_h, .in_w = state->in_w, .channels = state->cin,
        .out_h = state->out_h, .out_w = state->out_w,
        .kernel_h = geo->kernel[0], .kernel_w = geo->kernel[1],
        .stride_h = geo->stride[0], .stride_w = geo->stride[1],
        .dilation_h = geo->dilation[0], .dilation_w = geo->dilation[1],
        .pad_top = geo->pad_begin[0], .pad_left = geo->pad_begin[1],
        .weights = state->f16 ? NULL : state->packed, .bias = state->bias,
        /* With a residual the clamp comes after the addition. */
        .lo = state->has_residual ? -INFINITY : state->lo,
        .hi = state->has_residual ? INFINITY : state->hi,
      };
    }
  else if (state->group == 1)
    {
      g_autofree float *khwc = kestrel_op_weights_to_khwc (weights, sizeof (float), state->cout, state->cin,
                                                           geo->kernel[0], geo->kernel[1]);
      state->path = CONV_IM2COL;
      state->k = geo->kernel[0] * geo->kernel[1] * state->cin;
      state->tile_rows = MAX (1, MIN (64, IM2COL_FLOATS / state->k));
      state->packed = g_malloc (gemm_packed_bytes (k, state->f16, state->k, state->cout));
      gemm_pack (k, state->f16, khwc, state->k, state->cout, state->packed);
      if (state->k > IM2COL_FLOATS)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "a kernel of %zu taps x channels is larger than the im2col "
                                  "tile (%d)", state->k, IM2COL_FLOATS);
          return FALSE;
        }
      if (geo->dilation[1] == 1)
        prepare_conv_rows (state, k, khwc);
    }
  else
    {
      state->path = CONV_GROUPED;
      state->f16 = FALSE;
      state->packed = kestrel_op_weights_to_khwc (weights, sizeof (float), state->cout, state->cin / state->group,
                                                  geo->kernel[0], geo->kernel[1]);
    }

  /* Sigmoid and SiLU after an FP32 gemm go into its epilogue: applied to
   * the rows the call just wrote, by the gemm's own ISA (16 lanes at
   * AVX-512, where the eltwise table's versions are AVX2). The FP16 gemm's
   * results are defined to the bit and take no activation. */
  state->gemm_act = KK_GEMM_ACT_NONE;
  if (!state->f16 && (state->path == CONV_POINTWISE || state->path == CONV_IM2COL
                      || state->path == CONV_ROWS))
    {
      if (state->act == CONV_ACT_SIGMOID)
        state->gemm_act = KK_GEMM_ACT_SIGMOID;
      else if (state->act == CONV_ACT_SILU)
        state->gemm_act = KK_GEMM_ACT_SILU;
    }
  return TRUE;
}

typedef struct {
  const KestrelStep *step;
  const ConvState *state;
} ConvRun;

static kk_gemm_epilogue
conv_epilogue (const KestrelStep *step, const ConvState *state, gsize first_row)
{
  kk_gemm_epilogue e = { state->bias, NULL, 0, state->lo, state->hi, state->gemm_act };

  if (state->has_residual)
    {
      e.residual = (const float *) step->inputs[3].data + first_row * state->cout;
      e.ldr = state->cout;
    }
  return e;
}

static void
conv_pointwise_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const ConvRun *run = data;
  const ConvState *s = run->state;
  const KestrelStep *step = run->step;
  gsize m_total = s->n * s->out_h * s->out_w;
  gsize m0 = begin * GEMM_ROWS_PER_CHUNK, m1 = MIN (m_total, end * GEMM_ROWS_PER_CHUNK);
  kk_gemm_epilogue e = conv_epilogue (step, s, m0);

  gemm_run (step->kernels, s->f16, m1 - m0, s->cout, s->k,
            (const float *) step->inputs[0].data + m0 * s->cin, s->cin, s->packed,
            (float *) step->outputs[0].data + m0 * s->cout, s->cout, &e);
  conv_act_apply (step, s, (float *) step->outputs[0].data + m0 * s->cout, (m1 - m0) * s->cout);
}

/* Copies n floats. The runs im2col copies are short (15 floats for the
 * 5x5 RGB input layer), where a call to memcpy costs more than the copy:
 * 4-float moves (one SSE load and store each once inlined), the last one
 * overlapping the previous rather than finishing float by float. */
/* Fills `rows` im2col rows (output pixels m0..), zeros in the padding. */
static void
im2col_rows (const ConvState *s, const float *x, gsize m0, gsize rows, float *out)
{
  const KestrelIm2col im = { &s->geo, s->cin, sizeof (float), 0 };

  kestrel_op_im2col_rows (&im, x, m0, rows, out);
}

static void
conv_im2col_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const ConvRun *run = data;
  const ConvState *s = run->state;
  const KestrelStep *step = run->step;
  gsize m_total = s->n * s->out_h * s->out_w;
  float tile[IM2COL_FLOATS];

  for (gsize t = begin; t < end; t++)
    {
      gsize m0 = t * s->tile_rows, rows = MIN (s->tile_rows, m_total - m0);
      kk_gemm_epilogue e = conv_epilogue (step, s, m0);

      im2col_rows (s, step->inputs[0].data, m0, rows, tile);
      gemm_run (step->kernels, s->f16, rows, s->cout, s->k, tile, s->k, s->packed,
                (float *) step->outputs[0].data + m0 * s->cout, s->cout, &e);
      conv_act_apply (step, s, (float *) step->outputs[0].data + m0 * s->cout, rows * s->cout);
    }
}

/* Output pixels [m0, m0 + count) through an im2col tile and the full gemm. */
static void
conv_im2col_pixels (const KestrelStep *step, const ConvState *s, gsize m0, gsize count, float *tile)
{
  for (gsize done = 0; done < count;)
    {
      gsize rows = MIN (s->tile_rows, count - done);
      kk_gemm_epilogue e = conv_epilogue (step, s, m0 + done);

      im2col_rows (s, step->inputs[0].data, m0 + done, rows, tile);
      gemm_run (step->kernels, s->f16, rows, s->cout, s->k, tile, s->k, s->packed,
                (float *) step->outputs[0].data + (m0 + done) * s->cout, s->cout, &e);
      done += rows;
    }
}

/* CONV_ROWS over output rows [begin, end) of all images (see
 * prepare_conv_rows()). */
static void
conv_rows_chunk (gsize begin, gsize end, guint worker, gpointer data)
{
  const ConvRun *run = data;
  const ConvState *s = run->state;
  const KestrelStep *step = run->step;
  const KestrelConvGeometry *g = &s->geo;
  const float *x = step->inputs[0].data;
  float *y = step->outputs[0].data;
  const gsize width = s->x_hi - s->x_lo;
  float tile[IM2COL_FLOATS];

  for (gsize row = begin; row < end; row++)
    {
      const gint64 img = row / s->out_h, oy = row % s->out_h;
      const gsize m0 = row * s->out_w;
      gint64 ky_lo = 0, ky_hi = g->kernel[0];

      while (ky_lo < ky_hi && oy * g->stride[0] - g->pad_begin[0] + ky_lo * g->dilation[0] < 0)
        ky_lo++;
      while (ky_hi > ky_lo
             && oy * g->stride[0] - g->pad_begin[0] + (ky_hi - 1) * g->dilation[0] >= s->in_h)
        ky_hi--;
      if (width == 0 || ky_lo == ky_hi)
        {
          conv_im2col_pixels (step, s, m0, s->out_w, tile);
          conv_act_apply (step, s, y + m0 * s->cout, s->out_w * s->cout);
          continue;
        }

      conv_im2col_pixels (step, s, m0, s->x_lo, tile);
      conv_im2col_pixels (step, s, m0 + s->x_hi, s->out_w - s->x_hi, tile);

      float *c = y + (m0 + s->x_lo) * s->cout;
      for (gint64 ky = ky_lo; ky < ky_hi; ky++)
        {
          const gint64 iy = oy * g->stride[0] - g->pad_begin[0] + ky * g->dilation[0];
          const float *a = x + ((img * s->in_h + iy) * s->in_w
                                + s->x_lo * g->stride[1] - g->pad_begin[1]) * s->cin;
          /* The first kernel row brings bias and residual, the others add
           * to what is in C; only the last one clamps. */
          kk_gemm_epilogue e = { NULL, c, s->cout, s->lo, s->hi, s->gemm_act };

          if (ky == ky_lo)
            e = conv_epilogue (step, s, m0 + s->x_lo);
          if (ky + 1 < ky_hi)
            {
              e.lo = -INFINITY;
              e.hi = INFINITY;
              e.act = KK_GEMM_ACT_NONE;
            }
          gemm_run (step->kernels, s->f16, width, s->cout, s->row_k, a, g->stride[1] * s->cin,
                    (const guint8 *) s->packed_rows + ky * s->row_packed, c, s->cout, &e);
        }
      conv_act_apply (step, s, y + m0 * s->cout, s->out_w * s->cout);
    }
}

static void
conv_depthwise_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const ConvRun *run = data;
  const ConvState *s = run->state;
  const KestrelStep *step = run->step;
  float *y = step->outputs[0].data;

  dw_run (step->kernels, &s->dw, s->f16, s->packed, step->inputs[0].data, y, begin, end);
  if (s->has_residual)
    {
      gsize row = s->out_w * s->cout;
      const float *r = step->inputs[3].data;
      step->kernels->add_clamp_f32 (y + begin * row, r + begin * row, y + begin * row,
                                    (end - begin) * row, s->lo, s->hi);
    }
  conv_act_apply (step, s, y + begin * s->out_w * s->cout, (end - begin) * s->out_w * s->cout);
}

static void
conv_grouped_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const ConvRun *run = data;
  const ConvState *s = run->state;
  const KestrelStep *step = run->step;
  const KestrelConvGeometry *g = &s->geo;
  const float *x = step->inputs[0].data;
  const float *r = s->has_residual ? step->inputs[3].data : NULL;
  float *y = step->outputs[0].data;
  gint64 cin_g = s->cin / s->group, cout_g = s->cout / s->group;

  for (gsize row = begin; row < end; row++)
    {
      gint64 img = row / s->out_h, oy = row % s->out_h;
      for (gint64 ox = 0; ox < s->out_w; ox++)
        for (gint64 o = 0; o < s->cout; o++)
          {
            gint64 grp = o / cout_g;
            const float *w = (const float *) s->packed + o * g->kernel[0] * g->kernel[1] * cin_g;
            float acc = s->bias[o];
            for (gint64 ky = 0; ky < g->kernel[0]; ky++)
              {
                gint64 iy = oy * g->stride[0] - g->pad_begin[0] + ky * g->dilation[0];
                if (iy < 0 || iy >= s->in_h)
                  continue;
                for (gint64 kx = 0; kx < g->kernel[1]; kx++)
                  {
                    gint64 ix = ox * g->stride[1] - g->pad_begin[1] + kx * g->dilation[1];
                    if (ix < 0 || ix >= s->in_w)
                      continue;
                    const float *px = x + ((img * s->in_h + iy) * s->in_w + ix) * s->cin + grp * cin_g;
                    const float *pw = w + (ky * g->kernel[1] + kx) * cin_g;
                    for (gint64 c = 0; c < cin_g; c++)
                      acc += px[c] * pw[c];
                  }
              }
            gsize at = ((img * s->out_h + oy) * s->out_w + ox) * s->cout + o;
            if (r != NULL)
              acc += r[at];
            y[at] = fminf (fmaxf (acc, s->lo), s->hi);
          }
      conv_act_apply (step, s, y + row * s->out_w * s->cout, s->out_w * s->cout);
    }
}

static void
conv_nhwc_run (const KestrelStep *step)
{
  const ConvState *s = step->state;
  ConvRun run = { step, s };
  gsize m_total = s->n * s->out_h * s->out_w;

  switch (s->path)
    {
    case CONV_POINTWISE:
      kestrel_step_parallel_for (step, (m_total + GEMM_ROWS_PER_CHUNK - 1) / GEMM_ROWS_PER_CHUNK,
                                 conv_pointwise_chunk, &run);
      break;
    case CONV_IM2COL:
      kestrel_step_parallel_for (step, (m_total + s->tile_rows - 1) / s->tile_rows,
                                 conv_im2col_chunk, &run);
      break;
    case CONV_ROWS:
      kestrel_step_parallel_for (step, s->n * s->out_h, conv_rows_chunk, &run);
      break;
    case CONV_DEPTHWISE:
      kestrel_step_parallel_for (step, s->n * s->out_h, conv_depthwise_rows, &run);
      break;
    case CONV_GROUPED:
      kestrel_step_parallel_for (step, s->n * s->out_h, conv_grouped_rows, &run);
      break;
    default:
      g_assert_not_reached ();
    }
}

static const KestrelOpDef op_conv_nhwc = {
  .domain = "kestrel",
  .op_type = "ConvNhwc",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = conv_nhwc_infer,
  .prepare = conv_nhwc_prepare,
  .run = conv_nhwc_run,
};

/* ---- MaxPoolNhwc --------------------------------------------------------- */

gboolean
kestrel_op_maxpool_nhwc_shape (const KestrelNode *node, const KestrelValue *x, gint64 *out, GError **error)
{
  KestrelConvGeometry geo;

  if (x->n_dims != 4)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED, "expects a 4-D input");
      return FALSE;
    }
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], NULL,
                                 kestrel_node_attr_int (node, "ceil_mode", 0) != 0, &geo, error))
    return FALSE;
  out[0] = x->shape[0];
  out[1] = geo.out[0];
  out[2] = geo.out[1];
  out[3] = x->shape[3];
  return TRUE;
}

static gboolean
maxpool_nhwc_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  gint64 out[4];

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !(x = kestrel_op_input (graph, node, 0, error))
      || !kestrel_op_check_float (node, 0, x, error)
      || !kestrel_op_maxpool_nhwc_shape (node, x, out, error))
    return FALSE;
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, 4, out);
  return TRUE;
}

gboolean
kestrel_op_maxpool_nhwc_prepare (KestrelStep *step, GError **error)
{
  const KestrelTensorView *x = &step->inputs[0], *y = &step->outputs[0];
  KestrelConvGeometry geo;
  kk_pool_params *p;

  if (!kestrel_op_conv_geometry (step->node, 2, &x->shape[1], NULL,
                                 kestrel_node_attr_int (step->node, "ceil_mode", 0) != 0, &geo, error))
    return FALSE;
  p = g_new0 (kk_pool_params, 1);
  *p = (kk_pool_params) {
    .batch = x->shape[0], .in_h = x->shape[1], .in_w = x->shape[2], .channels = x->shape[3],
    .out_h = y->shape[1], .out_w = y->shape[2],
    .kernel_h = geo.kernel[0], .kernel_w = geo.kernel[1],
    .stride_h = geo.stride[0], .stride_w = geo.stride[1],
    .dilation_h = geo.dilation[0], .dilation_w = geo.dilation[1],
    .pad_top = geo.pad_begin[0], .pad_left = geo.pad_begin[1],
  };
  step->state = p;
  step->free_state = g_free;
  return TRUE;
}

static void
maxpool_nhwc_rows (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;

  step->kernels->maxpool_f32_nhwc (step->state, step->inputs[0].data, step->outputs[0].data,
                                   begin, end);
}

static void
maxpool_nhwc_run (const KestrelStep *step)
{
  const kk_pool_params *p = step->state;

  kestrel_step_parallel_for (step, p->batch * p->out_h, maxpool_nhwc_rows, (gpointer) step);
}

static const KestrelOpDef op_maxpool_nhwc = {
  .domain = "kestrel",
  .op_type = "MaxPoolNhwc",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = maxpool_nhwc_infer,
  .prepare = kestrel_op_maxpool_nhwc_prepare,
  .run = maxpool_nhwc_run,
};

/* ---- DwPwNhwc ------------------------------------------------------------ */

/* Unfused, a depthwise layer writes its whole output (1.5 MB for BlazeFace's
 * 128x128x24, more than L2) and the pointwise layer reads it straight back.
 * Fused, each work item runs the depthwise kernel over a band of a few
 * output rows into a buffer on the worker's stack and the gemm over that
 * band at once, while the band (and the input rows under it, which are also
 * the residual in BlazeFace) are still in L1/L2. What fusing saves is that
 * memory traffic, so a thread whose kernels are compute-bound gains little;
 * the model also has half the steps, so half the fork/join points at N
 * threads, and threads no longer share L3 bandwidth for the intermediate.
 *
 * DW_PW_BAND_FLOATS is the buffer's capacity: a row of the depthwise output
 * must fit (kestrel-passes-fast.c fuses only such layers, and infer checks
 * it). Bands aim at DW_PW_TARGET_FLOATS, half of L1 next to the input rows
 * and the gemm's output; one 128x24 row is 3072 floats. */
#define DW_PW_BAND_FLOATS 8192
#define DW_PW_TARGET_FLOATS 4096

static gboolean
dw_pw_nhwc_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x, *wdw, *wpw, *bdw = NULL, *bpw = NULL, *r = NULL;
  KestrelConvGeometry geo;
  gint64 out[4];

  /* Input 2 (the depthwise bias) may be omitted, so only 0 and 1 are
   * required as far as the arity check goes; input 3 is checked below. */
  if (!kestrel_op_check_arity (node, 2, 6, 1, error)
      || !(x = kestrel_op_input (graph, node, 0, error))
      || !(wdw = kestrel_op_input (graph, node, 1, error))
      || !(wpw = kestrel_op_input (graph, node, 3, error))
      || !kestrel_op_check_float (node, 0, x, error)
      || !check_weights_dtype (node, 1, wdw, error)
      || !check_weights_dtype (node, 3, wpw, error))
    return FALSE;
  if ((kestrel_node_input (node, 2) >= 0 && !(bdw = kestrel_op_input (graph, node, 2, error)))
      || (kestrel_node_input (node, 4) >= 0 && !(bpw = kestrel_op_input (graph, node, 4, error)))
      || (kestrel_node_input (node, 5) >= 0 && !(r = kestrel_op_input (graph, node, 5, error))))
    return FALSE;
  if (x->n_dims != 4 || wdw->n_dims != 4 || wpw->n_dims != 4 || wdw->constant == NULL
      || wpw->constant == NULL || (bdw != NULL && bdw->constant == NULL)
      || (bpw != NULL && bpw->constant == NULL))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "expects a 4-D input and constant 4-D weights and biases");
      return FALSE;
    }

  gint64 c = x->shape[3], cout = wpw->shape[0];
  if (kestrel_node_attr_int (node, "group", 1) != c || wdw->shape[0] != c || wdw->shape[1] != 1
      || wpw->shape[1] != c || wpw->shape[2] != 1 || wpw->shape[3] != 1
      || (bdw != NULL && (bdw->n_dims != 1 || bdw->shape[0] != c))
      || (bpw != NULL && (bpw->n_dims != 1 || bpw->shape[0] != cout)))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "expects depthwise weights [%" G_GINT64_FORMAT ",1,kh,kw] with "
                              "group %" G_GINT64_FORMAT ", pointwise weights [Cout,%" G_GINT64_FORMAT
                              ",1,1] and biases to match", c, c, c);
      return FALSE;
    }
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], &wdw->shape[2], FALSE, &geo, error))
    return FALSE;
  if (geo.out[1] * c > DW_PW_BAND_FLOATS)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "a depthwise output row of %" G_GINT64_FORMAT " floats is larger "
                              "than the band buffer (%d)", geo.out[1] * c, DW_PW_BAND_FLOATS);
      return FALSE;
    }
  out[0] = x->shape[0];
  out[1] = geo.out[0];
  out[2] = geo.out[1];
  out[3] = cout;
  if (r != NULL && (r->n_dims != 4 || memcmp (r->shape, out, sizeof out) != 0))
    {
      g_autofree char *want = kestrel_shape_to_string (4, out);
      g_autofree char *got = kestrel_shape_to_string (r->n_dims, r->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "residual input is %s, expected %s", got, want);
      return FALSE;
    }
  kestrel_op_set_output (graph, node, 0, KESTREL_DTYPE_FLOAT32, 4, out);
  return TRUE;
}

typedef struct {
  kk_dwconv_params dw;    /* out_row0 is set per band */
  void *dw_weights;       /* [kh][kw][C], floats or halves (dw_f16) */
  gboolean dw_f16;
  float *dw_bias;         /* [C], zeros when the model has none */
  void *pw_packed;        /* gemm-packed [C][Cout], floats or halves (f16) */
  gboolean f16;
  float *pw_bias;         /* [Cout], zeros when the model has none */
  gsize rows;             /* output rows of all images */
  gsize band_rows;        /* output rows per band */
  gsize cin, cout;
  float lo, hi;
  gboolean has_residual;
} DwPwState;

static void
dw_pw_state_free (gpointer data)
{
  DwPwState *state = data;

  g_free (state->dw_weights);
  g_free (state->dw_bias);
  g_free (state->pw_packed);
  g_free (state->pw_bias);
  g_free (state);
}

static gboolean
dw_pw_nhwc_prepare (KestrelStep *step, GError **error)
{
  const KestrelNode *node = step->node;
  const KestrelTensorView *x = &step->inputs[0], *wdw = &step->inputs[1], *y = &step->outputs[0];
  const kk_kernels *k = step->kernels;
  DwPwState *state = g_new0 (DwPwState, 1);
  KestrelConvGeometry geo;

  step->state = state;
  step->free_state = dw_pw_state_free;
  if (!kestrel_op_conv_geometry (node, 2, &x->shape[1], &wdw->shape[2], FALSE, &geo, error))
    return FALSE;

  state->cin = x->shape[3];
  state->cout = y->shape[3];
  state->rows = y->shape[0] * y->shape[1];
  state->lo = kestrel_node_attr_float (node, "act_lo", -INFINITY);
  state->hi = kestrel_node_attr_float (node, "act_hi", INFINITY);
  state->has_residual = kestrel_node_input (node, 5) >= 0;

  state->dw_f16 = wdw->dtype == KESTREL_DTYPE_FLOAT16;
  state->dw_weights = dw_pack (wdw, state->cin, geo.kernel[0], geo.kernel[1]);
  state->dw_bias = g_new0 (float, state->cin);
  if (kestrel_node_input (node, 2) >= 0)
    memcpy (state->dw_bias, step->inputs[2].data, state->cin * sizeof (float));
  state->dw = (kk_dwconv_params) {
    .batch = x->shape[0], .in_h = x->shape[1], .in_w = x->shape[2], .channels = state->cin,
    .out_h = geo.out[0], .out_w = geo.out[1],
    .kernel_h = geo.kernel[0], .kernel_w = geo.kernel[1],
    .stride_h = geo.stride[0], .stride_w = geo.stride[1],
    .dilation_h = geo.dilation[0], .dilation_w = geo.dilation[1],
    .pad_top = geo.pad_begin[0], .pad_left = geo.pad_begin[1],
    .weights = state->dw_f16 ? NULL : state->dw_weights, .bias = state->dw_bias,
    .lo = kestrel_node_attr_float (node, "dw_act_lo", -INFINITY),
    .hi = kestrel_node_attr_float (node, "dw_act_hi", INFINITY),
  };

  g_autofree float *widened = NULL;
  const float *wpw = weights_as_floats (&step->inputs[3], &widened);
  state->f16 = step->inputs[3].dtype == KESTREL_DTYPE_FLOAT16;
  state->pw_packed = g_malloc (gemm_packed_bytes (k, state->f16, state->cin, state->cout));
  gemm_pack (k, state->f16, wpw, state->cin, state->cout, state->pw_packed);
  state->pw_bias = g_new0 (float, state->cout);
  if (kestrel_node_input (node, 4) >= 0)
    memcpy (state->pw_bias, step->inputs[4].data, state->cout * sizeof (float));

  gsize row_floats = geo.out[1] * state->cin;
  state->band_rows = CLAMP (DW_PW_TARGET_FLOATS / row_floats, 1, DW_PW_BAND_FLOATS / row_floats);
  return TRUE;
}

/* Bands [begin, end): depthwise rows into the stack buffer, then the gemm
 * from it into Y with bias, residual and clamp. */
static void
dw_pw_bands (gsize begin, gsize end, guint worker, gpointer data)
{
  const KestrelStep *step = data;
  const DwPwState *s = step->state;
  const kk_kernels *k = step->kernels;
  const float *x = step->inputs[0].data;
  const float *r = s->has_residual ? step->inputs[5].data : NULL;
  float *y = step->outputs[0].data;
  const gsize out_w = s->dw.out_w;
  _Alignas (64) float band[DW_PW_BAND_FLOATS];
  kk_dwconv_params dw = s->dw;

  for (gsize b = begin; b < end; b++)
    {
      gsize r0 = b * s->band_rows, r1 = MIN (s->rows, r0 + s->band_rows);
      gsize m0 = r0 * out_w;
      kk_gemm_epilogue e = { s->pw_bias, r != NULL ? r + m0 * s->cout : NULL, s->cout, s->lo, s->hi };

      dw.out_row0 = r0;
      dw_run (k, &dw, s->dw_f16, s->dw_weights, x, band, r0, r1);
      gemm_run (k, s->f16, (r1 - r0) * out_w, s->cout, s->cin, band, s->cin, s->pw_packed,
                y + m0 * s->cout, s->cout, &e);
    }
}

static void
dw_pw_nhwc_run (const KestrelStep *step)
{
  const DwPwState *s = step->state;

  kestrel_step_parallel_for (step, (s->rows + s->band_rows - 1) / s->band_rows, dw_pw_bands,
                             (gpointer) step);
}

static const KestrelOpDef op_dw_pw_nhwc = {
  .domain = "kestrel",
  .op_type = "DwPwNhwc",
  .min_opset = 1,
  .max_opset = G_MAXINT64,
  .infer = dw_pw_nhwc_infer,
  .prepare = dw_pw_nhwc_prepare,
  .run = dw_pw_nhwc_run,
};

const KestrelOpDef *const kestrel_ops_fast[] = {
  &op_conv_nhwc,
  &op_maxpool_nhwc,
  &op_dw_pw_nhwc,
  NULL,
};
