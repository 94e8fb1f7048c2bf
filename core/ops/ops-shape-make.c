/* ops-shape-make.c — operators that make tensors from a few numbers or
 * mask matrices: Range, EyeLike and Trilu.
 *
 * Range's output length depends on its inputs' values, so they must be
 * constants (Kestrel plans every shape; a folding pass usually turns the
 * node into a constant anyway). Trilu's k does not change the shape and is
 * read at run time.
 */
#include "config.h"

#include "ops-shape.h"

#include <math.h>
#include <string.h>

#include "kestrel-error.h"

static const KestrelDType range_dtypes[] = {
  KESTREL_DTYPE_FLOAT32, KESTREL_DTYPE_INT32, KESTREL_DTYPE_INT64,
};

/* ---- Range ------------------------------------------------------------------ */

/* Range (11-21): start, start + delta, ... while short of limit; the length
 * is max (ceil ((limit - start) / delta), 0). */
static gboolean
range_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const char *const names[] = { "start", "limit", "delta" };
  const KestrelValue *v[3];
  double d[3], n;
  gint64 len;

  if (!kestrel_op_check_arity (node, 3, 3, 1, error))
    return FALSE;
  for (guint i = 0; i < 3; i++)
    {
      if ((v[i] = kestrel_op_input (graph, node, i, error)) == NULL
          || !kestrel_op_check_dtype (node, i, v[i], range_dtypes, G_N_ELEMENTS (range_dtypes),
                                      error))
        return FALSE;
      if (v[i]->dtype != v[0]->dtype || kestrel_value_n_elements (v[i]) != 1)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "%s '%s' must be a single %s like start", names[i], v[i]->name,
                                  kestrel_dtype_get_name (v[0]->dtype));
          return FALSE;
        }
      if (v[i]->constant == NULL)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "input %u ('%s', %s) must be a constant (known when the model "
                                  "is loaded): it decides the output's length", i, v[i]->name,
                                  names[i]);
          return FALSE;
        }
      d[i] = kestrel_op_load_double (v[i]->dtype, kestrel_tensor_get_data (v[i]->constant), 0);
    }
  if (d[2] == 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT, "delta is 0");
      return FALSE;
    }
  if (v[0]->dtype == KESTREL_DTYPE_FLOAT32)
    n = ceil (((double) (float) d[1] - (double) (float) d[0]) / (double) (float) d[2]);
  else
    n = ceil ((d[1] - d[0]) / d[2]);
  if (!(n <= (double) G_MAXINT32))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "a range of %g elements is too long", n);
      return FALSE;
    }
  len = n > 0 ? (gint64) n : 0;
  kestrel_op_set_output (graph, node, 0, v[0]->dtype, 1, &len);
  return TRUE;
}

static void
range_run (const KestrelStep *step)
{
  const KestrelTensorView *out = &step->outputs[0];
  KestrelDType t = out->dtype;

  if (t == KESTREL_DTYPE_FLOAT32)
    {
      /* Each element from start by one multiplication, as numpy.arange. */
      float start = *(const float *) step->inputs[0].data;
      float delta = *(const float *) step->inputs[2].data;
      for (gsize i = 0; i < out->n_elements; i++)
        ((float *) out->data)[i] = start + (float) i * delta;
    }
  else
    {
      gint64 start = kestrel_op_load_int (t, step->inputs[0].data, 0);
      gint64 delta = kestrel_op_load_int (t, step->inputs[2].data, 0);
      for (gsize i = 0; i < out->n_elements; i++)
        kestrel_op_store_int (t, out->data, i, start + (gint64) i * delta);
    }
}

const KestrelOpDef kestrel_op_range = { "", "Range", 11, 21, range_infer, NULL, range_run, NULL };

/* ---- EyeLike ------------------------------------------------------------------ */

/* ONNX TensorProto data type numbers of the types Kestrel has. */
static gboolean
dtype_from_onnx (gint64 code, KestrelDType *dtype)
{
  switch (code)
    {
    case 1: *dtype = KESTREL_DTYPE_FLOAT32; return TRUE;
    case 2: *dtype = KESTREL_DTYPE_UINT8; return TRUE;
    case 3: *dtype = KESTREL_DTYPE_INT8; return TRUE;
    case 6: *dtype = KESTREL_DTYPE_INT32; return TRUE;
    case 7: *dtype = KESTREL_DTYPE_INT64; return TRUE;
    case 9: *dtype = KESTREL_DTYPE_BOOL; return TRUE;
    case 10: *dtype = KESTREL_DTYPE_FLOAT16; return TRUE;
    case 11: *dtype = KESTREL_DTYPE_FLOAT64; return TRUE;
    default: return FALSE;
    }
}

static gboolean
eye_like_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  KestrelDType dtype;

  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "k", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "dtype", KESTREL_ATTR_INT, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL)
    return FALSE;
  dtype = x->dtype;
  if (kestrel_node_find_attr (node, "dtype") != NULL
      && !dtype_from_onnx (kestrel_node_attr_int (node, "dtype", 1), &dtype))
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "dtype %" G_GINT64_FORMAT " is not a data type Kestrel has",
                              kestrel_node_attr_int (node, "dtype", 1));
      return FALSE;
    }
  if (x->n_dims != 2 || dtype == KESTREL_DTYPE_FLOAT16)
    {
      kestrel_node_set_error (error, node, x->n_dims != 2 ? KESTREL_ERROR_CORRUPT
                                                          : KESTREL_ERROR_UNSUPPORTED,
                              x->n_dims != 2 ? "input '%s' must be a matrix (2 dimensions)"
                                             : "float16 output of '%s' is not supported",
                              x->name);
      return FALSE;
    }
  kestrel_op_set_output (graph, node, 0, dtype, 2, x->shape);
  return TRUE;
}

static void
eye_like_run (const KestrelStep *step)
{
  const KestrelTensorView *out = &step->outputs[0];
  gint64 k = kestrel_node_attr_int (step->node, "k", 0);

  for (gint64 i = 0; i < out->shape[0]; i++)
    for (gint64 j = 0; j < out->shape[1]; j++)
      kestrel_op_store_int (out->dtype, out->data, i * out->shape[1] + j, j - i == k);
}

const KestrelOpDef kestrel_op_eye_like = {
  "", "EyeLike", 9, 21, eye_like_infer, NULL, eye_like_run, NULL
};

/* ---- Trilu -------------------------------------------------------------------- */

/* Trilu (14-21): keeps the upper (j - i >= k) or lower (j - i <= k)
 * triangle of the last two dimensions and zeroes the rest. */
static gboolean
trilu_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  static const KestrelDType k_types[] = { KESTREL_DTYPE_INT64 };
  const KestrelValue *x, *k;

  if (!kestrel_op_check_arity (node, 1, 2, 1, error)
      || !kestrel_node_check_attr_type (node, "upper", KESTREL_ATTR_INT, error)
      || (x = kestrel_op_input (graph, node, 0, error)) == NULL)
    return FALSE;
  if (x->n_dims < 2)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input '%s' has %u dimensions; expected at least 2", x->name,
                              x->n_dims);
      return FALSE;
    }
  if (kestrel_node_n_inputs (node) > 1 && kestrel_node_input (node, 1) >= 0)
    {
      if ((k = kestrel_op_input (graph, node, 1, error)) == NULL
          || !kestrel_op_check_dtype (node, 1, k, k_types, 1, error))
        return FALSE;
      if (kestrel_value_n_elements (k) != 1)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "k '%s' must be a single value", k->name);
          return FALSE;
        }
    }
  kestrel_op_set_output (graph, node, 0, x->dtype, x->n_dims, x->shape);
  return TRUE;
}

static void
trilu_run (const KestrelStep *step)
{
  const KestrelTensorView *x = &step->inputs[0];
  gsize size = kestrel_dtype_get_size (x->dtype);
  gint64 rows = x->shape[x->n_dims - 2], cols = x->shape[x->n_dims - 1];
  gsize n_mat = kestrel_shape_product (x->shape, 0, x->n_dims - 2);
  gboolean upper = kestrel_node_attr_int (step->node, "upper", 1) != 0;
  gint64 k = step->n_inputs > 1 && step->inputs[1].data != NULL
             ? *(const gint64 *) step->inputs[1].data : 0;
  const guint8 *in = x->data;
  guint8 *out = step->outputs[0].data;

  for (gsize m = 0; m < n_mat; m++)
    for (gint64 i = 0; i < rows; i++)
      for (gint64 j = 0; j < cols; j++)
        {
          gsize e = (m * rows + i) * cols + j;
          gboolean keep = upper ? j - i >= k : j - i <= k;

          if (keep)
            memmove (out + e * size, in + e * size, size);
          else
            memset (out + e * size, 0, size);
        }
}

const KestrelOpDef kestrel_op_trilu = { "", "Trilu", 14, 21, trilu_infer, NULL, trilu_run, NULL };
