/* kestrel-input-shape.c — pinning free input dimensions (see the header). */
#include "config.h"

#include "kestrel-input-shape.h"

#include <stdlib.h>
#include <string.h>

#include "kestrel-error.h"

gboolean
kestrel_input_shape_parse (const char *spec, char **name, guint *n_dims,
                           gint64 shape[KESTREL_TENSOR_MAX_DIMS], GError **error)
{
  const char *eq = strrchr (spec, '=');
  g_auto(GStrv) dims = NULL;
  guint n;

  if (eq == NULL || eq == spec || eq[1] == '\0')
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "input shape '%s' is not NAME=D0xD1x... (for example images=1x3x320x320)", spec);
      return FALSE;
    }
  dims = g_strsplit (eq + 1, "x", -1);
  n = g_strv_length (dims);
  if (n > KESTREL_TENSOR_MAX_DIMS)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "input shape '%s' has %u dimensions, at most %d are supported", spec, n,
                   KESTREL_TENSOR_MAX_DIMS);
      return FALSE;
    }
  for (guint d = 0; d < n; d++)
    {
      char *end = NULL;
      gint64 v;

      if (!g_ascii_isdigit (dims[d][0]))
        goto bad_dim;
      v = g_ascii_strtoll (dims[d], &end, 10);
      if (*end != '\0' || v <= 0 || v > KESTREL_INPUT_MAX_ELEMENTS)
        goto bad_dim;
      shape[d] = v;
      continue;

    bad_dim:
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "input shape '%s': dimension %u ('%s') is not a positive integer up to %" G_GINT64_FORMAT,
                   spec, d, dims[d], KESTREL_INPUT_MAX_ELEMENTS);
      return FALSE;
    }
  *name = g_strndup (spec, eq - spec);
  *n_dims = n;
  return TRUE;
}

char *
kestrel_value_describe_input_shape (const KestrelValue *value)
{
  GString *s = g_string_new (NULL);

  for (guint d = 0; d < value->n_dims; d++)
    {
      if (d > 0)
        g_string_append_c (s, 'x');
      if (value->shape[d] < 0)
        g_string_append_c (s, '?');
      else
        g_string_append_printf (s, "%" G_GINT64_FORMAT, value->shape[d]);
    }
  if (value->n_dims == 0)
    g_string_append (s, "scalar");
  return g_string_free (s, FALSE);
}

static char *
input_names (const KestrelGraph *graph)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < graph->inputs->len; i++)
    g_string_append_printf (s, "%s'%s'", i > 0 ? ", " : "",
                            kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i))->name);
  return g_string_free (s, FALSE);
}

gboolean
kestrel_graph_set_input_shape (KestrelGraph *graph, const char *name, guint n_dims,
                               const gint64 *shape, GError **error)
{
  KestrelValue *value = NULL;
  gint64 n_elements = 1;

  for (guint i = 0; i < graph->inputs->len && value == NULL; i++)
    {
      KestrelValue *v = kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i));
      if (strcmp (v->name, name) == 0)
        value = v;
    }
  if (value == NULL)
    {
      g_autofree char *names = input_names (graph);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "the model has no input '%s' (its inputs: %s)", name, names);
      return FALSE;
    }
  if (n_dims != value->n_dims)
    {
      g_autofree char *have = kestrel_value_describe_input_shape (value);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "input '%s' is %s: %u dimensions, not %u", name, have, value->n_dims, n_dims);
      return FALSE;
    }
  for (guint d = 0; d < n_dims; d++)
    {
      if ((value->free_dims & (1u << d)) == 0 && shape[d] != value->shape[d])
        {
          g_autofree char *have = kestrel_value_describe_input_shape (value);
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "input '%s' is %s: dimension %u is fixed at %" G_GINT64_FORMAT
                       " by the model, not %" G_GINT64_FORMAT "%s", name, have, d, value->shape[d],
                       shape[d], d == 0 ? " (other batch sizes are a plan option)" : "");
          return FALSE;
        }
      n_elements *= shape[d];
      if (shape[d] <= 0 || n_elements > KESTREL_INPUT_MAX_ELEMENTS)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                       "input '%s' at that shape would have more than %" G_GINT64_FORMAT
                       " elements", name, KESTREL_INPUT_MAX_ELEMENTS);
          return FALSE;
        }
    }
  memcpy (value->shape, shape, n_dims * sizeof (gint64));
  value->has_shape = TRUE;
  return TRUE;
}

gboolean
kestrel_graph_set_input_shapes (KestrelGraph *graph, const char *const *specs, GError **error)
{
  for (guint i = 0; specs != NULL && specs[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      gint64 shape[KESTREL_TENSOR_MAX_DIMS];
      guint n_dims;

      if (!kestrel_input_shape_parse (specs[i], &name, &n_dims, shape, error)
          || !kestrel_graph_set_input_shape (graph, name, n_dims, shape, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
kestrel_graph_check_inputs_pinned (const KestrelGraph *graph, GError **error)
{
  for (guint i = 0; i < graph->inputs->len; i++)
    {
      const KestrelValue *value = kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i));
      g_autofree char *have = NULL;
      g_autoptr(GString) example = NULL;

      if (value->has_shape)
        continue;
      have = kestrel_value_describe_input_shape (value);
      example = g_string_new (NULL);
      for (guint d = 0; d < value->n_dims; d++)
        {
          if (d > 0)
            g_string_append_c (example, 'x');
          if (value->shape[d] >= 0)
            g_string_append_printf (example, "%" G_GINT64_FORMAT, value->shape[d]);
          else
            g_string_append_printf (example, "D%u", d);
        }
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "graph input '%s' is %s: its free dimensions need a size to plan at "
                   "(kestrel-cli: --input-shape %s=%s)", value->name, have, value->name,
                   example->str);
      return FALSE;
    }
  return TRUE;
}
