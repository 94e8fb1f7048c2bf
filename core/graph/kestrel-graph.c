/* kestrel-graph.c — the engine's graph: construction, attributes, order. */
#include "config.h"

#include "kestrel-graph.h"

#include <stdarg.h>
#include <string.h>

#include "kestrel-error.h"

static void
value_free (gpointer data)
{
  KestrelValue *value = data;

  g_free (value->name);
  g_clear_pointer (&value->constant, kestrel_tensor_unref);
  g_free (value);
}

static void
attr_free (gpointer data)
{
  KestrelAttr *attr = data;

  g_free (attr->name);
  g_free (attr->s);
  g_clear_pointer (&attr->t, kestrel_tensor_unref);
  g_free (attr->floats);
  g_free (attr->ints);
  g_strfreev (attr->strings);
  g_free (attr);
}

static void
node_free (gpointer data)
{
  KestrelNode *node = data;

  g_free (node->name);
  g_free (node->op_type);
  g_free (node->domain);
  g_array_unref (node->inputs);
  g_array_unref (node->outputs);
  g_ptr_array_unref (node->attrs);
  g_free (node);
}

KestrelGraph *
kestrel_graph_new (void)
{
  KestrelGraph *graph = g_new0 (KestrelGraph, 1);

  graph->values = g_ptr_array_new_with_free_func (value_free);
  graph->nodes = g_ptr_array_new_with_free_func (node_free);
  graph->inputs = g_array_new (FALSE, FALSE, sizeof (gint));
  graph->outputs = g_array_new (FALSE, FALSE, sizeof (gint));
  graph->value_by_name = g_hash_table_new (g_str_hash, g_str_equal);
  return graph;
}

void
kestrel_graph_free (KestrelGraph *graph)
{
  if (graph == NULL)
    return;
  g_hash_table_unref (graph->value_by_name);
  g_ptr_array_unref (graph->nodes);
  g_ptr_array_unref (graph->values);
  g_array_unref (graph->inputs);
  g_array_unref (graph->outputs);
  g_free (graph->name);
  g_free (graph->producer);
  g_free (graph);
}

static KestrelAttr *
attr_copy (const KestrelAttr *src)
{
  KestrelAttr *attr = g_new0 (KestrelAttr, 1);

  *attr = *src;
  attr->name = g_strdup (src->name);
  attr->s = g_strdup (src->s);
  attr->t = src->t != NULL ? kestrel_tensor_ref (src->t) : NULL;
  attr->floats = g_memdup2 (src->floats, src->n * sizeof (float));
  attr->ints = g_memdup2 (src->ints, src->n * sizeof (gint64));
  attr->strings = g_strdupv (src->strings);
  return attr;
}

KestrelGraph *
kestrel_graph_copy (const KestrelGraph *graph)
{
  KestrelGraph *copy = kestrel_graph_new ();

  copy->name = g_strdup (graph->name);
  copy->producer = g_strdup (graph->producer);
  copy->opset = graph->opset;
  copy->ir_version = graph->ir_version;
  for (guint i = 0; i < graph->values->len; i++)
    {
      const KestrelValue *src = g_ptr_array_index (graph->values, i);
      KestrelValue *value = g_new0 (KestrelValue, 1);

      *value = *src;
      value->name = g_strdup (src->name);
      value->constant = src->constant != NULL ? kestrel_tensor_ref (src->constant) : NULL;
      g_ptr_array_add (copy->values, value);
      g_hash_table_insert (copy->value_by_name, value->name, GINT_TO_POINTER (i + 1));
    }
  for (guint i = 0; i < graph->nodes->len; i++)
    {
      const KestrelNode *src = g_ptr_array_index (graph->nodes, i);
      KestrelNode *node = g_new0 (KestrelNode, 1);

      node->name = g_strdup (src->name);
      node->op_type = g_strdup (src->op_type);
      node->domain = g_strdup (src->domain);
      node->inputs = g_array_copy (src->inputs);
      node->outputs = g_array_copy (src->outputs);
      node->attrs = g_ptr_array_new_with_free_func (attr_free);
      for (guint a = 0; a < src->attrs->len; a++)
        g_ptr_array_add (node->attrs, attr_copy (g_ptr_array_index (src->attrs, a)));
      node->removed = src->removed;
      node->op = src->op;
      g_ptr_array_add (copy->nodes, node);
    }
  g_array_append_vals (copy->inputs, graph->inputs->data, graph->inputs->len);
  g_array_append_vals (copy->outputs, graph->outputs->data, graph->outputs->len);
  return copy;
}

gint
kestrel_graph_find_value (const KestrelGraph *graph, const char *name)
{
  return GPOINTER_TO_INT (g_hash_table_lookup (graph->value_by_name, name)) - 1;
}

static gint
add_value (KestrelGraph *graph, const char *name)
{
  KestrelValue *value = g_new0 (KestrelValue, 1);
  gint index = graph->values->len;

  value->name = g_strdup (name);
  value->producer = -1;
  g_ptr_array_add (graph->values, value);
  g_hash_table_insert (graph->value_by_name, value->name, GINT_TO_POINTER (index + 1));
  return index;
}

gint
kestrel_graph_intern_value (KestrelGraph *graph, const char *name)
{
  gint index = kestrel_graph_find_value (graph, name);

  return index >= 0 ? index : add_value (graph, name);
}

gint
kestrel_graph_new_value (KestrelGraph *graph, const char *hint)
{
  g_autofree char *name = NULL;

  for (guint n = graph->values->len;; n++)
    {
      g_free (name);
      name = g_strdup_printf ("%s#%u", hint, n);
      if (kestrel_graph_find_value (graph, name) < 0)
        return add_value (graph, name);
    }
}

gint
kestrel_graph_new_constant (KestrelGraph *graph, const char *hint, KestrelTensor *tensor)
{
  gint index = kestrel_graph_new_value (graph, hint);
  KestrelValue *value = kestrel_graph_value (graph, index);

  value->constant = kestrel_tensor_ref (tensor);
  kestrel_value_set_shape (value, kestrel_tensor_get_dtype (tensor),
                           kestrel_tensor_get_n_dims (tensor), kestrel_tensor_get_shape (tensor));
  return index;
}

void
kestrel_value_set_shape (KestrelValue *value, KestrelDType dtype, guint n_dims, const gint64 *shape)
{
  g_return_if_fail (n_dims <= KESTREL_TENSOR_MAX_DIMS);

  value->dtype = dtype;
  value->has_type = TRUE;
  value->has_shape = TRUE;
  value->n_dims = n_dims;
  memset (value->shape, 0, sizeof value->shape);
  if (n_dims > 0)
    memcpy (value->shape, shape, n_dims * sizeof (gint64));
}

gsize
kestrel_value_n_elements (const KestrelValue *value)
{
  gsize n = 1;

  for (guint i = 0; i < value->n_dims; i++)
    n *= (gsize) value->shape[i];
  return n;
}

gint
kestrel_graph_add_node (KestrelGraph *graph, const char *domain, const char *op_type, const char *name)
{
  KestrelNode *node = g_new0 (KestrelNode, 1);
  gint index = graph->nodes->len;

  node->op_type = g_strdup (op_type);
  node->domain = g_strdup (domain != NULL ? domain : "");
  node->name = name != NULL && *name != '\0'
               ? g_strdup (name) : g_strdup_printf ("%s_%d", op_type, index);
  node->inputs = g_array_new (FALSE, FALSE, sizeof (gint));
  node->outputs = g_array_new (FALSE, FALSE, sizeof (gint));
  node->attrs = g_ptr_array_new_with_free_func (attr_free);
  g_ptr_array_add (graph->nodes, node);
  return index;
}

void
kestrel_node_add_input (KestrelNode *node, gint value)
{
  g_array_append_val (node->inputs, value);
}

void
kestrel_node_add_output (KestrelGraph *graph, gint node_index, gint value)
{
  KestrelNode *node = kestrel_graph_node (graph, node_index);

  g_array_append_val (node->outputs, value);
  if (value >= 0)
    kestrel_graph_value (graph, value)->producer = node_index;
}

/* ---- attributes ---------------------------------------------------------- */

const KestrelAttr *
kestrel_node_find_attr (const KestrelNode *node, const char *name)
{
  for (guint i = 0; i < node->attrs->len; i++)
    {
      const KestrelAttr *attr = g_ptr_array_index (node->attrs, i);
      if (strcmp (attr->name, name) == 0)
        return attr;
    }
  return NULL;
}

KestrelAttr *
kestrel_node_add_attr (KestrelNode *node, const char *name, KestrelAttrType type)
{
  KestrelAttr *attr;

  for (guint i = 0; i < node->attrs->len; i++)
    if (strcmp (((KestrelAttr *) g_ptr_array_index (node->attrs, i))->name, name) == 0)
      {
        g_ptr_array_remove_index (node->attrs, i);
        break;
      }
  attr = g_new0 (KestrelAttr, 1);
  attr->name = g_strdup (name);
  attr->type = type;
  g_ptr_array_add (node->attrs, attr);
  return attr;
}

void
kestrel_node_set_attr_int (KestrelNode *node, const char *name, gint64 value)
{
  kestrel_node_add_attr (node, name, KESTREL_ATTR_INT)->i = value;
}

void
kestrel_node_set_attr_float (KestrelNode *node, const char *name, float value)
{
  kestrel_node_add_attr (node, name, KESTREL_ATTR_FLOAT)->f = value;
}

void
kestrel_node_set_attr_ints (KestrelNode *node, const char *name, const gint64 *values, guint n)
{
  KestrelAttr *attr = kestrel_node_add_attr (node, name, KESTREL_ATTR_INTS);

  attr->n = n;
  attr->ints = g_memdup2 (values, n * sizeof (gint64));
}

void
kestrel_node_set_attr_string (KestrelNode *node, const char *name, const char *value)
{
  kestrel_node_add_attr (node, name, KESTREL_ATTR_STRING)->s = g_strdup (value);
}

gint64
kestrel_node_attr_int (const KestrelNode *node, const char *name, gint64 fallback)
{
  const KestrelAttr *attr = kestrel_node_find_attr (node, name);

  return attr != NULL && attr->type == KESTREL_ATTR_INT ? attr->i : fallback;
}

float
kestrel_node_attr_float (const KestrelNode *node, const char *name, float fallback)
{
  const KestrelAttr *attr = kestrel_node_find_attr (node, name);

  return attr != NULL && attr->type == KESTREL_ATTR_FLOAT ? attr->f : fallback;
}

const char *
kestrel_node_attr_string (const KestrelNode *node, const char *name, const char *fallback)
{
  const KestrelAttr *attr = kestrel_node_find_attr (node, name);

  return attr != NULL && attr->type == KESTREL_ATTR_STRING ? attr->s : fallback;
}

const gint64 *
kestrel_node_attr_ints (const KestrelNode *node, const char *name, guint *n)
{
  const KestrelAttr *attr = kestrel_node_find_attr (node, name);

  if (attr == NULL || attr->type != KESTREL_ATTR_INTS)
    {
      *n = 0;
      return NULL;
    }
  *n = attr->n;
  return attr->ints;
}

const float *
kestrel_node_attr_floats (const KestrelNode *node, const char *name, guint *n)
{
  const KestrelAttr *attr = kestrel_node_find_attr (node, name);

  if (attr == NULL || attr->type != KESTREL_ATTR_FLOATS)
    {
      *n = 0;
      return NULL;
    }
  *n = attr->n;
  return attr->floats;
}

KestrelTensor *
kestrel_node_attr_tensor (const KestrelNode *node, const char *name)
{
  const KestrelAttr *attr = kestrel_node_find_attr (node, name);

  return attr != NULL && attr->type == KESTREL_ATTR_TENSOR ? attr->t : NULL;
}

static const char *
attr_type_name (KestrelAttrType type)
{
  static const char *const names[] = { "float", "int", "string", "tensor", "floats", "ints", "strings" };
  return (guint) type < G_N_ELEMENTS (names) ? names[type] : "unknown";
}

gboolean
kestrel_node_check_attr_type (const KestrelNode *node, const char *name, KestrelAttrType type,
                              GError **error)
{
  const KestrelAttr *attr = kestrel_node_find_attr (node, name);

  if (attr == NULL || attr->type == type)
    return TRUE;
  kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                          "attribute '%s' is a %s, expected a %s",
                          name, attr_type_name (attr->type), attr_type_name (type));
  return FALSE;
}

char *
kestrel_node_describe (const KestrelNode *node)
{
  if (node->domain[0] != '\0')
    return g_strdup_printf ("node '%s' (%s.%s)", node->name, node->domain, node->op_type);
  return g_strdup_printf ("node '%s' (%s)", node->name, node->op_type);
}

void
kestrel_node_set_error (GError **error, const KestrelNode *node, gint code, const char *format, ...)
{
  g_autofree char *what = kestrel_node_describe (node);
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, KESTREL_ERROR, code, "%s: %s", what, message);
}

/* ---- structure ----------------------------------------------------------- */

GArray *
kestrel_graph_consumers (const KestrelGraph *graph, gint value)
{
  GArray *users = g_array_new (FALSE, FALSE, sizeof (gint));

  for (guint n = 0; n < graph->nodes->len; n++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, n);
      if (node->removed)
        continue;
      for (guint i = 0; i < node->inputs->len; i++)
        if (g_array_index (node->inputs, gint, i) == value)
          {
            gint index = n;
            g_array_append_val (users, index);
            break;
          }
    }
  return users;
}

guint
kestrel_graph_n_consumers (const KestrelGraph *graph, gint value)
{
  g_autoptr(GArray) users = kestrel_graph_consumers (graph, value);
  guint n = users->len;

  for (guint i = 0; i < graph->outputs->len; i++)
    if (g_array_index (graph->outputs, gint, i) == value)
      n++;
  return n;
}

gboolean
kestrel_graph_sort (KestrelGraph *graph, GError **error)
{
  guint n_nodes = graph->nodes->len;
  g_autofree gint *producer = g_new (gint, graph->values->len);
  g_autofree guint *pending = g_new0 (guint, n_nodes);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new_full (n_nodes, NULL);
  g_autoptr(GArray) ready = g_array_new (FALSE, FALSE, sizeof (gint));

  for (guint v = 0; v < graph->values->len; v++)
    producer[v] = -1;
  for (guint n = 0; n < n_nodes; n++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, n);
      for (guint o = 0; o < node->outputs->len; o++)
        {
          gint v = g_array_index (node->outputs, gint, o);
          if (v < 0)
            continue;
          if (producer[v] >= 0)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                      "output '%s' is also produced by node '%s'",
                                      kestrel_graph_value (graph, v)->name,
                                      kestrel_graph_node (graph, producer[v])->name);
              return FALSE;
            }
          producer[v] = n;
        }
    }

  /* Kahn's algorithm; ties keep the model's order, so a well-ordered model
   * keeps its order exactly. */
  for (guint n = 0; n < n_nodes; n++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, n);
      for (guint i = 0; i < node->inputs->len; i++)
        {
          gint v = g_array_index (node->inputs, gint, i);
          if (v < 0)
            continue;
          const KestrelValue *value = kestrel_graph_value (graph, v);
          if (producer[v] < 0 && value->constant == NULL && !value->is_input)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                      "input '%s' is not a graph input, an initializer or "
                                      "the output of any node", value->name);
              return FALSE;
            }
          if (producer[v] >= 0)
            pending[n]++;
        }
    }

  g_autofree gboolean *done = g_new0 (gboolean, n_nodes);
  guint cursor = 0;
  while (sorted->len < n_nodes)
    {
      gboolean progressed = FALSE;
      for (guint n = cursor; n < n_nodes; n++)
        {
          if (done[n] || pending[n] > 0)
            continue;
          KestrelNode *node = kestrel_graph_node (graph, n);
          done[n] = TRUE;
          progressed = TRUE;
          g_ptr_array_add (sorted, node);
          for (guint o = 0; o < node->outputs->len; o++)
            {
              gint v = g_array_index (node->outputs, gint, o);
              if (v < 0)
                continue;
              for (guint m = 0; m < n_nodes; m++)
                {
                  const KestrelNode *user = kestrel_graph_node (graph, m);
                  for (guint i = 0; i < user->inputs->len; i++)
                    if (g_array_index (user->inputs, gint, i) == v)
                      pending[m]--;
                }
            }
          /* Restart from the earliest node so model order wins ties. */
          cursor = 0;
          break;
        }
      if (!progressed)
        {
          for (guint n = 0; n < n_nodes; n++)
            if (!done[n])
              {
                kestrel_node_set_error (error, kestrel_graph_node (graph, n), KESTREL_ERROR_CORRUPT,
                                        "the graph has a cycle through this node");
                return FALSE;
              }
        }
      while (cursor < n_nodes && done[cursor])
        cursor++;
    }

  /* Reorder in place without freeing the nodes. */
  g_ptr_array_set_free_func (graph->nodes, NULL);
  for (guint n = 0; n < n_nodes; n++)
    g_ptr_array_index (graph->nodes, n) = g_ptr_array_index (sorted, n);
  g_ptr_array_set_free_func (graph->nodes, node_free);

  for (guint v = 0; v < graph->values->len; v++)
    kestrel_graph_value (graph, v)->producer = -1;
  for (guint n = 0; n < n_nodes; n++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, n);
      for (guint o = 0; o < node->outputs->len; o++)
        {
          gint v = g_array_index (node->outputs, gint, o);
          if (v >= 0)
            kestrel_graph_value (graph, v)->producer = n;
        }
    }
  return TRUE;
}

void
kestrel_graph_replace_uses (KestrelGraph *graph, gint from, gint to)
{
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      if (node->removed)
        continue;
      for (guint i = 0; i < node->inputs->len; i++)
        if (g_array_index (node->inputs, gint, i) == from)
          g_array_index (node->inputs, gint, i) = to;
    }
  for (guint i = 0; i < graph->outputs->len; i++)
    if (g_array_index (graph->outputs, gint, i) == from)
      {
        g_array_index (graph->outputs, gint, i) = to;
        kestrel_graph_value (graph, to)->is_output = TRUE;
        kestrel_graph_value (graph, from)->is_output = FALSE;
      }
}

void
kestrel_graph_compact (KestrelGraph *graph)
{
  guint n_values = graph->values->len;
  g_autofree gboolean *used = g_new0 (gboolean, n_values);
  g_autofree gint *remap = g_new (gint, n_values);
  g_autoptr(GPtrArray) nodes = g_ptr_array_new_with_free_func (node_free);
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (value_free);

  /* Keep live nodes (in order) and the values they touch. */
  g_ptr_array_set_free_func (graph->nodes, NULL);
  for (guint n = 0; n < graph->nodes->len; n++)
    {
      KestrelNode *node = kestrel_graph_node (graph, n);
      if (node->removed)
        {
          node_free (node);
          continue;
        }
      for (guint i = 0; i < node->inputs->len; i++)
        if (g_array_index (node->inputs, gint, i) >= 0)
          used[g_array_index (node->inputs, gint, i)] = TRUE;
      for (guint i = 0; i < node->outputs->len; i++)
        if (g_array_index (node->outputs, gint, i) >= 0)
          used[g_array_index (node->outputs, gint, i)] = TRUE;
      g_ptr_array_add (nodes, node);
    }
  g_ptr_array_set_size (graph->nodes, 0);
  g_ptr_array_set_free_func (graph->nodes, node_free);
  for (guint i = 0; i < graph->inputs->len; i++)
    used[g_array_index (graph->inputs, gint, i)] = TRUE;
  for (guint i = 0; i < graph->outputs->len; i++)
    used[g_array_index (graph->outputs, gint, i)] = TRUE;

  g_ptr_array_set_free_func (graph->values, NULL);
  for (guint v = 0; v < n_values; v++)
    {
      KestrelValue *value = g_ptr_array_index (graph->values, v);
      if (used[v])
        {
          remap[v] = values->len;
          g_ptr_array_add (values, value);
        }
      else
        {
          remap[v] = -1;
          value_free (value);
        }
    }
  g_ptr_array_set_size (graph->values, 0);
  g_ptr_array_set_free_func (graph->values, value_free);

  g_hash_table_remove_all (graph->value_by_name);
  for (guint v = 0; v < values->len; v++)
    {
      KestrelValue *value = g_ptr_array_index (values, v);
      value->producer = -1;
      g_ptr_array_add (graph->values, value);
      g_hash_table_insert (graph->value_by_name, value->name, GINT_TO_POINTER (v + 1));
    }
  g_ptr_array_set_free_func (values, NULL);

  for (guint n = 0; n < nodes->len; n++)
    {
      KestrelNode *node = g_ptr_array_index (nodes, n);
      for (guint i = 0; i < node->inputs->len; i++)
        {
          gint *v = &g_array_index (node->inputs, gint, i);
          if (*v >= 0)
            *v = remap[*v];
        }
      for (guint i = 0; i < node->outputs->len; i++)
        {
          gint *v = &g_array_index (node->outputs, gint, i);
          if (*v >= 0)
            {
              *v = remap[*v];
              kestrel_graph_value (graph, *v)->producer = n;
            }
        }
      g_ptr_array_add (graph->nodes, node);
    }
  g_ptr_array_set_free_func (nodes, NULL);

  for (guint i = 0; i < graph->inputs->len; i++)
    g_array_index (graph->inputs, gint, i) = remap[g_array_index (graph->inputs, gint, i)];
  for (guint i = 0; i < graph->outputs->len; i++)
    g_array_index (graph->outputs, gint, i) = remap[g_array_index (graph->outputs, gint, i)];
}

/* Copies src's attributes (numbers, strings and lists) to dst, except the
 * ones named in the NULL-terminated `skip`. */
void
kestrel_node_copy_attrs (KestrelNode *dst, const KestrelNode *src, const char *const *skip)
{
  for (guint a = 0; a < src->attrs->len; a++)
    {
      const KestrelAttr *attr = g_ptr_array_index (src->attrs, a);
      gboolean skipped = FALSE;

      for (guint i = 0; skip != NULL && skip[i] != NULL; i++)
        skipped |= strcmp (attr->name, skip[i]) == 0;
      if (skipped)
        continue;

      KestrelAttr *copy = kestrel_node_add_attr (dst, attr->name, attr->type);
      copy->f = attr->f;
      copy->i = attr->i;
      copy->s = g_strdup (attr->s);
      copy->n = attr->n;
      copy->ints = g_memdup2 (attr->ints, attr->n * sizeof (gint64));
      copy->floats = g_memdup2 (attr->floats, attr->n * sizeof (float));
    }
}
