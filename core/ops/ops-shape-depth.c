/* ops-shape-depth.c — DepthToSpace and SpaceToDepth.
 *
 * Both are a reshape, a transpose and a reshape, which is one strided copy
 * with six dimensions: the output walked in order, each dimension with its
 * stride in the input. For DepthToSpace (b = blocksize, C' = C / b²):
 *
 *   DCR: out[n, c, h*b + i, w*b + j] = in[n, (i*b + j)*C' + c, h, w]
 *   CRD: out[n, c, h*b + i, w*b + j] = in[n, c*b*b + i*b + j, h, w]
 *
 * and SpaceToDepth is the inverse of DCR. Every data type; 4-D input
 * (NCHW). One definition each for opsets 1 to 21: DepthToSpace-11 added
 * `mode` (DCR, the only behaviour before, is its default), later versions
 * only types.
 */
#include "config.h"

#include "ops-shape.h"

#include <string.h>

#include "kestrel-error.h"

static gboolean
depth_common (KestrelGraph *graph, KestrelNode *node, const KestrelValue **x, gint64 *block,
              GError **error)
{
  if (!kestrel_op_check_arity (node, 1, 1, 1, error)
      || !kestrel_node_check_attr_type (node, "blocksize", KESTREL_ATTR_INT, error)
      || !kestrel_node_check_attr_type (node, "mode", KESTREL_ATTR_STRING, error))
    return FALSE;
  *x = kestrel_op_input (graph, node, 0, error);
  if (*x == NULL)
    return FALSE;
  if ((*x)->n_dims != 4)
    {
      g_autofree char *s = kestrel_shape_to_string ((*x)->n_dims, (*x)->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "input '%s' has shape %s; expected 4 dimensions [N, C, H, W]",
                              (*x)->name, s);
      return FALSE;
    }
  if (kestrel_node_find_attr (node, "blocksize") == NULL)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "has no 'blocksize' attribute");
      return FALSE;
    }
  *block = kestrel_node_attr_int (node, "blocksize", 0);
  if (*block < 1 || *block > G_MAXINT32)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "blocksize %" G_GINT64_FORMAT " is not a positive size", *block);
      return FALSE;
    }
  return TRUE;
}

/* TRUE for CRD; fails for a mode that is neither. */
static gboolean
depth_mode_crd (const KestrelNode *node, gboolean *crd, GError **error)
{
  const char *mode = kestrel_node_attr_string (node, "mode", "DCR");

  *crd = g_strcmp0 (mode, "CRD") == 0;
  if (!*crd && g_strcmp0 (mode, "DCR") != 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "mode '%s' is not DCR or CRD", mode);
      return FALSE;
    }
  return TRUE;
}

static gboolean
depth_to_space_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  gint64 b, out[4];
  gboolean crd;

  if (!depth_common (graph, node, &x, &b, error) || !depth_mode_crd (node, &crd, error))
    return FALSE;
  if (x->shape[1] % (b * b) != 0)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "%" G_GINT64_FORMAT " channels do not divide into blocks of %"
                              G_GINT64_FORMAT "x%" G_GINT64_FORMAT, x->shape[1], b, b);
      return FALSE;
    }
  out[0] = x->shape[0];
  out[1] = x->shape[1] / (b * b);
  out[2] = x->shape[2] * b;
  out[3] = x->shape[3] * b;
  kestrel_op_set_output (graph, node, 0, x->dtype, 4, out);
  return TRUE;
}

static gboolean
space_to_depth_infer (KestrelGraph *graph, KestrelNode *node, GError **error)
{
  const KestrelValue *x;
  gint64 b, out[4];

  if (!depth_common (graph, node, &x, &b, error))
    return FALSE;
  if (x->shape[2] % b != 0 || x->shape[3] % b != 0)
    {
      g_autofree char *s = kestrel_shape_to_string (x->n_dims, x->shape);
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "height and width of %s are not multiples of blocksize %"
                              G_GINT64_FORMAT, s, b);
      return FALSE;
    }
  out[0] = x->shape[0];
  out[1] = x->shape[1] * b * b;
  out[2] = x->shape[2] / b;
  out[3] = x->shape[3] / b;
  kestrel_op_set_output (graph, node, 0, x->dtype, 4, out);
  return TRUE;
}

static gboolean
depth_prepare (KestrelStep *step, gboolean to_space, GError **error)
{
  const KestrelTensorView *in = &step->inputs[0];
  const gint64 n = in->shape[0], c = in->shape[1], h = in->shape[2], w = in->shape[3];
  const gint64 b = kestrel_node_attr_int (step->node, "blocksize", 1);
  gint64 shape[6], stride[6];
  KestrelStridedCopy *copy;
  gboolean crd = FALSE;

  if (to_space)
    {
      gint64 oc = c / (b * b);

      if (!depth_mode_crd (step->node, &crd, error))
        return FALSE;
      /* Output dimensions (n, c', h, i, w, j). */
      memcpy (shape, (gint64[]) { n, oc, h, b, w, b }, sizeof shape);
      stride[0] = c * h * w;
      stride[1] = crd ? b * b * h * w : h * w;
      stride[2] = w;
      stride[3] = crd ? b * h * w : b * oc * h * w;
      stride[4] = 1;
      stride[5] = crd ? h * w : oc * h * w;
    }
  else
    {
      /* Output dimensions (n, i, j, c, h', w'). */
      memcpy (shape, (gint64[]) { n, b, b, c, h / b, w / b }, sizeof shape);
      stride[0] = c * h * w;
      stride[1] = w;
      stride[2] = 1;
      stride[3] = h * w;
      stride[4] = b * w;
      stride[5] = b;
    }
  copy = g_new0 (KestrelStridedCopy, 1);
  kestrel_strided_copy_init (copy, kestrel_dtype_get_size (in->dtype), 6, shape, stride, 0);
  step->state = copy;
  step->free_state = g_free;
  return TRUE;
}

static gboolean
depth_to_space_prepare (KestrelStep *step, GError **error)
{
  return depth_prepare (step, TRUE, error);
}

static gboolean
space_to_depth_prepare (KestrelStep *step, GError **error)
{
  return depth_prepare (step, FALSE, error);
}

static void
depth_run (const KestrelStep *step)
{
  kestrel_strided_copy_run (step, step->state, step->inputs[0].data, step->outputs[0].data);
}

const KestrelOpDef kestrel_op_depth_to_space = {
  "", "DepthToSpace", 1, 21, depth_to_space_infer, depth_to_space_prepare, depth_run, NULL
};

const KestrelOpDef kestrel_op_space_to_depth = {
  "", "SpaceToDepth", 1, 21, space_to_depth_infer, space_to_depth_prepare, depth_run, NULL
};
