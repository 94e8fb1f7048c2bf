/* kestrel-frame-size.c — see kestrel-frame-size.h for the rule. */
#include "config.h"

#include "kestrel-frame-size.h"

#include <math.h>
#include <string.h>

/* Tried in order: the frame's own size first (no distortion at all), then
 * the total strides of common backbones (32: five halvings, ResNet,
 * MobileNet, DBNet, YOLO to P5; 64 and 128: deeper pyramids). */
static const guint multiples[] = { 1, 32, 64, 128 };

gboolean
kestrel_frame_sized_input_find (const KestrelGraph *graph, const char *const *given, KestrelFrameSizedInput *out)
{
  const KestrelValue *value;
  gboolean nhwc;

  memset (out, 0, sizeof *out);
  if (graph->inputs->len == 0)
    return FALSE;
  value = kestrel_graph_value (graph, g_array_index (graph->inputs, gint, 0));
  if (value == NULL || value->n_dims != 4 || value->dtype != KESTREL_DTYPE_FLOAT32)
    return FALSE;
  /* 3 channels first or last; both free is taken as channels first. */
  if (value->shape[1] == 3 || (value->shape[1] < 0 && value->shape[3] < 0))
    nhwc = FALSE;
  else if (value->shape[3] == 3)
    nhwc = TRUE;
  else
    return FALSE;
  guint h_dim = nhwc ? 1 : 2, w_dim = nhwc ? 2 : 3;
  if ((value->free_dims & ((1u << h_dim) | (1u << w_dim))) == 0)
    return FALSE;
  for (guint i = 0; given != NULL && given[i] != NULL; i++)
    {
      const char *eq = strchr (given[i], '=');
      if (eq != NULL && (gsize) (eq - given[i]) == strlen (value->name)
          && strncmp (given[i], value->name, eq - given[i]) == 0)
        return FALSE;
    }
  out->name = g_strdup (value->name);
  out->nhwc = nhwc;
  out->height = (value->free_dims & (1u << h_dim)) ? -1 : value->shape[h_dim];
  out->width = (value->free_dims & (1u << w_dim)) ? -1 : value->shape[w_dim];
  /* A free batch is one frame; a fixed one stays the file's. */
  out->batch = (value->free_dims & 1u) ? 1 : value->shape[0];
  return TRUE;
}

void
kestrel_frame_sized_input_clear (KestrelFrameSizedInput *input)
{
  g_clear_pointer (&input->name, g_free);
}

static guint
round_up (double side, guint multiple)
{
  guint n = (guint) MAX (lround (side), 1);
  return (n + multiple - 1) / multiple * multiple;
}

void
kestrel_frame_size_fit (const KestrelFrameSizedInput *input, guint frame_width, guint frame_height,
                        guint multiple, guint *width, guint *height)
{
  double fw = MAX (frame_width, 1), fh = MAX (frame_height, 1);
  double max_side = KESTREL_FRAME_SIZE_MAX_SIDE;

  multiple = MAX (multiple, 1);
  if (input->height > 0)
    {
      /* Height fixed by the model (a text-line recogniser): the width
       * follows the frame's aspect at that height. */
      *height = (guint) input->height;
      *width = round_up (MIN (fw * input->height / fh, max_side), multiple);
    }
  else if (input->width > 0)
    {
      *width = (guint) input->width;
      *height = round_up (MIN (fh * input->width / fw, max_side), multiple);
    }
  else
    {
      double scale = MIN (1.0, max_side / MAX (fw, fh));
      *width = round_up (MIN (fw * scale, max_side), multiple);
      *height = round_up (MIN (fh * scale, max_side), multiple);
    }
}

char *
kestrel_frame_sized_input_spec (const KestrelFrameSizedInput *input, guint width, guint height)
{
  if (input->height > 0)
    height = (guint) input->height;
  if (input->width > 0)
    width = (guint) input->width;
  if (input->nhwc)
    return g_strdup_printf ("%s=%" G_GINT64_FORMAT "x%ux%ux3", input->name, input->batch, height, width);
  return g_strdup_printf ("%s=%" G_GINT64_FORMAT "x3x%ux%u", input->name, input->batch, height, width);
}

KestrelModel *
kestrel_frame_size_load_model (const KestrelGraph *graph, const char *origin, const char *const *given,
                               const KestrelFrameSizedInput *input, guint frame_width, guint frame_height,
                               guint *multiple, guint *width, guint *height, GError **error)
{
  g_autoptr(GError) last_error = NULL;
  guint tried_w = 0, tried_h = 0;

  for (guint i = 0; i < G_N_ELEMENTS (multiples); i++)
    {
      g_autoptr(GPtrArray) shapes = g_ptr_array_new_with_free_func (g_free);
      guint w, h;

      kestrel_frame_size_fit (input, frame_width, frame_height, multiples[i], &w, &h);
      /* The same size as the last try fails the same way: what failed is
       * not the size. */
      if (w == tried_w && h == tried_h)
        break;
      tried_w = w;
      tried_h = h;
      for (guint s = 0; given != NULL && given[s] != NULL; s++)
        g_ptr_array_add (shapes, g_strdup (given[s]));
      g_ptr_array_add (shapes, kestrel_frame_sized_input_spec (input, w, h));
      g_ptr_array_add (shapes, NULL);

      g_clear_error (&last_error);
      KestrelModel *model = kestrel_model_new_from_graph_at (kestrel_graph_copy (graph), origin,
                                                             (const char *const *) shapes->pdata, &last_error);
      if (model != NULL)
        {
          *multiple = multiples[i];
          *width = w;
          *height = h;
          return model;
        }
      g_debug ("%s: planning input '%s' at %ux%u failed: %s", origin, input->name, w, h, last_error->message);
    }
  g_propagate_prefixed_error (error, g_steal_pointer (&last_error),
                              "planning input '%s' at %ux%u, for frames of %ux%u: ", input->name, tried_w,
                              tried_h, frame_width, frame_height);
  return NULL;
}
