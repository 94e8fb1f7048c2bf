/* kestrel-graph.h — the model graph as the engine sees it.
 *
 * The ONNX loader builds a KestrelGraph; passes (shape inference, constant
 * folding, fusion, layout) rewrite it; the planner turns it into steps. It is
 * plain data, not a GObject: one owner at a time, no signals.
 *
 * Values are referred to by index into graph->values and nodes by index into
 * graph->nodes, so passes can rewrite without dangling pointers. A node is
 * deleted by setting `removed`; kestrel_graph_compact() drops removed nodes
 * and unused values and renumbers.
 */
#pragma once

#include <glib.h>

#include "kestrel-tensor.h"

G_BEGIN_DECLS

typedef struct _KestrelOpDef KestrelOpDef;

/* An edge: a tensor flowing between nodes, a graph input, or a constant. */
typedef struct {
  char *name;
  KestrelDType dtype;
  gboolean has_type;       /* dtype known */
  gboolean has_shape;      /* n_dims/shape known and static */
  guint n_dims;
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  KestrelTensor *constant; /* initializer or folded value; NULL for activations */
  gint producer;           /* node index, or -1 for graph inputs and constants */
  gboolean is_input;       /* a graph input the caller feeds */
  gboolean is_output;      /* a graph output the caller reads */
  /* Graph inputs: bit d is set when dimension d is symbolic in the file.
   * Until every free dimension but the first is given a size (where
   * has_shape is FALSE and those dimensions are -1), the graph cannot be
   * prepared; the first defaults to 1, the batch. */
  guint free_dims;
} KestrelValue;

typedef enum {
  KESTREL_ATTR_FLOAT,
  KESTREL_ATTR_INT,
  KESTREL_ATTR_STRING,
  KESTREL_ATTR_TENSOR,
  KESTREL_ATTR_FLOATS,
  KESTREL_ATTR_INTS,
  KESTREL_ATTR_STRINGS,
} KestrelAttrType;

typedef struct {
  char *name;
  KestrelAttrType type;
  float f;
  gint64 i;
  char *s;               /* NUL-terminated (ONNX strings are bytes; ours are text) */
  KestrelTensor *t;
  guint n;               /* element count of floats / ints / strings */
  float *floats;
  gint64 *ints;
  char **strings;
} KestrelAttr;

typedef struct {
  char *name;            /* from the model, or "<op_type>_<index>" when it had none */
  char *op_type;
  char *domain;          /* "" for ai.onnx; "kestrel" for the engine's own ops */
  GArray *inputs;        /* gint value indices; -1 marks an omitted optional input */
  GArray *outputs;       /* gint value indices; -1 marks an omitted optional output */
  GPtrArray *attrs;      /* KestrelAttr * */
  gboolean removed;
  const KestrelOpDef *op; /* resolved by kestrel_graph_resolve_ops() */
} KestrelNode;

typedef struct {
  char *name;
  gint64 opset;          /* ai.onnx opset the model imports */
  gint64 ir_version;
  char *producer;
  GPtrArray *values;     /* KestrelValue * */
  GPtrArray *nodes;      /* KestrelNode *, topologically ordered after load */
  GArray *inputs;        /* gint value indices the caller feeds, in model order */
  GArray *outputs;       /* gint value indices the caller reads, in model order */
  GHashTable *value_by_name; /* char * -> GINT_TO_POINTER (index + 1) */
} KestrelGraph;

KestrelGraph *kestrel_graph_new (void);
void kestrel_graph_free (KestrelGraph *graph);
/* A deep copy (tensors are shared by reference; they are immutable). */
KestrelGraph *kestrel_graph_copy (const KestrelGraph *graph);

static inline KestrelValue *
kestrel_graph_value (const KestrelGraph *graph, gint index)
{
  return index < 0 ? NULL : g_ptr_array_index (graph->values, index);
}

static inline KestrelNode *
kestrel_graph_node (const KestrelGraph *graph, gint index)
{
  return g_ptr_array_index (graph->nodes, index);
}

/* The value with this name, created (untyped, no producer) if new. */
gint kestrel_graph_intern_value (KestrelGraph *graph, const char *name);
gint kestrel_graph_find_value (const KestrelGraph *graph, const char *name); /* -1 if none */
/* A new value with a name derived from `hint` that is unique in the graph. */
gint kestrel_graph_new_value (KestrelGraph *graph, const char *hint);
/* A new constant value owning a reference to `tensor`. */
gint kestrel_graph_new_constant (KestrelGraph *graph, const char *hint, KestrelTensor *tensor);

void kestrel_value_set_shape (KestrelValue *value, KestrelDType dtype,
                              guint n_dims, const gint64 *shape);
gsize kestrel_value_n_elements (const KestrelValue *value); /* needs has_shape */

/* Appends a node; `name` may be NULL. Returns its index. */
gint kestrel_graph_add_node (KestrelGraph *graph, const char *domain, const char *op_type,
                             const char *name);
void kestrel_node_add_input (KestrelNode *node, gint value);
void kestrel_node_add_output (KestrelGraph *graph, gint node_index, gint value);

static inline guint
kestrel_node_n_inputs (const KestrelNode *node)
{
  return node->inputs->len;
}

static inline gint
kestrel_node_input (const KestrelNode *node, guint i)
{
  return i < node->inputs->len ? g_array_index (node->inputs, gint, i) : -1;
}

static inline guint
kestrel_node_n_outputs (const KestrelNode *node)
{
  return node->outputs->len;
}

static inline gint
kestrel_node_output (const KestrelNode *node, guint i)
{
  return i < node->outputs->len ? g_array_index (node->outputs, gint, i) : -1;
}

/* Attributes. Setters replace an attribute of the same name. */
const KestrelAttr *kestrel_node_find_attr (const KestrelNode *node, const char *name);
KestrelAttr *kestrel_node_add_attr (KestrelNode *node, const char *name, KestrelAttrType type);
void kestrel_node_set_attr_int (KestrelNode *node, const char *name, gint64 value);
void kestrel_node_set_attr_float (KestrelNode *node, const char *name, float value);
void kestrel_node_set_attr_ints (KestrelNode *node, const char *name, const gint64 *values, guint n);
void kestrel_node_set_attr_string (KestrelNode *node, const char *name, const char *value);

/* Copies src's attributes (numbers, strings and lists) to dst, except the
 * ones named in the NULL-terminated `skip` (may be NULL). */
void kestrel_node_copy_attrs (KestrelNode *dst, const KestrelNode *src, const char *const *skip);

/* Typed getters: return `fallback` when absent. A present attribute of the
 * wrong type is an error the op's infer() reports via
 * kestrel_node_check_attr_type(). */
gint64 kestrel_node_attr_int (const KestrelNode *node, const char *name, gint64 fallback);
float kestrel_node_attr_float (const KestrelNode *node, const char *name, float fallback);
const char *kestrel_node_attr_string (const KestrelNode *node, const char *name, const char *fallback);
/* Ints attribute: pointer to the values (owned by the node) and *n, or NULL and n = 0. */
const gint64 *kestrel_node_attr_ints (const KestrelNode *node, const char *name, guint *n);
const float *kestrel_node_attr_floats (const KestrelNode *node, const char *name, guint *n);
KestrelTensor *kestrel_node_attr_tensor (const KestrelNode *node, const char *name);
gboolean kestrel_node_check_attr_type (const KestrelNode *node, const char *name,
                                       KestrelAttrType type, GError **error);

/* "node 'conv2d_1/Conv2D' (Conv)": how every error names a node. */
char *kestrel_node_describe (const KestrelNode *node) G_GNUC_WARN_UNUSED_RESULT;

/* Sets the error "<node description>: <message>" in KESTREL_ERROR / code. */
void kestrel_node_set_error (GError **error, const KestrelNode *node, gint code,
                             const char *format, ...) G_GNUC_PRINTF (4, 5);

/* Node indices that read `value` (not removed), in graph order. */
GArray *kestrel_graph_consumers (const KestrelGraph *graph, gint value);
guint kestrel_graph_n_consumers (const KestrelGraph *graph, gint value);

/* Orders nodes so every node comes after the producers of its inputs, and
 * sets each value's producer. Fails on a cycle or on an input no one
 * produces, naming the node and the value. */
gboolean kestrel_graph_sort (KestrelGraph *graph, GError **error);

/* Drops removed nodes and values nothing uses; renumbers. */
void kestrel_graph_compact (KestrelGraph *graph);

/* Replaces every use of value `from` by `to` (graph outputs included). */
void kestrel_graph_replace_uses (KestrelGraph *graph, gint from, gint to);

G_END_DECLS
