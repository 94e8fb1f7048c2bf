/* kestrel-onnx.c — ONNX files to KestrelGraph, TensorProto to KestrelTensor.
 *
 * protobuf-c does the wire format (kestrel-onnx.proto); this file checks
 * what the messages say: every size, type and name that could be wrong in a
 * damaged or hostile file is checked before it is used, and reported with
 * the file and the node it belongs to.
 */
#include "config.h"

#include "kestrel-onnx.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-file.h"
#include "kestrel-onnx.pb-c.h"

#define ONNX_FLOAT 1
#define ONNX_UINT8 2
#define ONNX_INT8 3
#define ONNX_INT32 6
#define ONNX_INT64 7
#define ONNX_STRING 8
#define ONNX_BOOL 9
#define ONNX_FLOAT16 10
#define ONNX_DOUBLE 11

static const struct {
  int onnx;
  KestrelDType dtype;
} dtype_map[] = {
  { ONNX_FLOAT, KESTREL_DTYPE_FLOAT32 },
  { ONNX_UINT8, KESTREL_DTYPE_UINT8 },
  { ONNX_INT8, KESTREL_DTYPE_INT8 },
  { ONNX_INT32, KESTREL_DTYPE_INT32 },
  { ONNX_INT64, KESTREL_DTYPE_INT64 },
  { ONNX_BOOL, KESTREL_DTYPE_BOOL },
  { ONNX_FLOAT16, KESTREL_DTYPE_FLOAT16 },
  { ONNX_DOUBLE, KESTREL_DTYPE_FLOAT64 },
};

static const char *const onnx_type_names[] = {
  "undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64", "string",
  "bool", "float16", "double", "uint32", "uint64", "complex64", "complex128", "bfloat16",
};

static const char *
onnx_type_name (int type)
{
  return type >= 0 && (gsize) type < G_N_ELEMENTS (onnx_type_names) ? onnx_type_names[type] : "unknown";
}

static gboolean
dtype_from_onnx (int onnx, KestrelDType *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (dtype_map); i++)
    if (dtype_map[i].onnx == onnx)
      {
        *out = dtype_map[i].dtype;
        return TRUE;
      }
  return FALSE;
}

int
kestrel_onnx_dtype_to_onnx (KestrelDType dtype)
{
  for (gsize i = 0; i < G_N_ELEMENTS (dtype_map); i++)
    if (dtype_map[i].dtype == dtype)
      return dtype_map[i].onnx;
  return 0;
}

/* ---- tensors ------------------------------------------------------------- */

static KestrelTensor *
tensor_from_proto (const KestrelOnnx__TensorProto *proto, const char *origin, const char *what,
                   GError **error)
{
  KestrelDType dtype;
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  gsize n_elements, n_bytes;
  g_autoptr(GError) size_error = NULL;
  g_autoptr(KestrelTensor) tensor = NULL;
  guint8 *data;

  if (proto->has_data_location && proto->data_location == KESTREL_ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: %s keeps its data in an external file, which Kestrel does not read",
                   origin, what);
      return NULL;
    }
  if (!dtype_from_onnx (proto->data_type, &dtype))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: %s has element type %s (%d); Kestrel reads float, float16, double, "
                   "int8, uint8, int32, int64 and bool", origin, what,
                   onnx_type_name (proto->data_type), proto->data_type);
      return NULL;
    }
  if (proto->n_dims > KESTREL_TENSOR_MAX_DIMS)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: %s has %zu dimensions, at most %d are supported", origin, what,
                   proto->n_dims, KESTREL_TENSOR_MAX_DIMS);
      return NULL;
    }
  for (gsize d = 0; d < proto->n_dims; d++)
    shape[d] = proto->dims[d];
  if (!kestrel_shape_get_size (dtype, proto->n_dims, shape, &n_elements, &n_bytes, &size_error))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: %s: %s", origin, what,
                   size_error->message);
      return NULL;
    }

  /* Check the data is all there before allocating what the dims claim. */
  gsize available;
  if (proto->has_raw_data)
    available = proto->raw_data.len / kestrel_dtype_get_size (dtype);
  else if (dtype == KESTREL_DTYPE_FLOAT32)
    available = proto->n_float_data;
  else if (dtype == KESTREL_DTYPE_INT64)
    available = proto->n_int64_data;
  else if (dtype == KESTREL_DTYPE_FLOAT64)
    available = proto->n_double_data;
  else
    available = proto->n_int32_data;
  if ((proto->has_raw_data && proto->raw_data.len != n_bytes)
      || (!proto->has_raw_data && available != n_elements))
    {
      g_autofree char *dims = kestrel_shape_to_string (proto->n_dims, shape);
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s: %s has shape %s (%zu elements) but %s holds %zu", origin, what, dims,
                   n_elements, proto->has_raw_data ? "raw_data" : "its data field",
                   proto->has_raw_data ? proto->raw_data.len / MAX (1, kestrel_dtype_get_size (dtype))
                                       : available);
      return NULL;
    }

  tensor = kestrel_tensor_new (dtype, proto->n_dims, shape, error);
  if (tensor == NULL)
    return NULL;
  data = kestrel_tensor_get_data (tensor);

  if (proto->has_raw_data)
    {
      /* ONNX raw data is little-endian, like every host Kestrel targets. */
      G_STATIC_ASSERT (G_BYTE_ORDER == G_LITTLE_ENDIAN);
      if (n_bytes > 0)
        memcpy (data, proto->raw_data.data, n_bytes);
    }
  else
    for (gsize k = 0; k < n_elements; k++)
      switch (dtype)
        {
        case KESTREL_DTYPE_FLOAT32:
          ((float *) data)[k] = proto->float_data[k];
          break;
        case KESTREL_DTYPE_INT64:
          ((gint64 *) data)[k] = proto->int64_data[k];
          break;
        case KESTREL_DTYPE_FLOAT64:
          ((double *) data)[k] = proto->double_data[k];
          break;
        case KESTREL_DTYPE_INT32:
          ((gint32 *) data)[k] = proto->int32_data[k];
          break;
        case KESTREL_DTYPE_FLOAT16:
          /* float16 travels as its bit pattern in int32_data. */
          ((guint16 *) data)[k] = (guint16) proto->int32_data[k];
          break;
        case KESTREL_DTYPE_INT8:
          ((gint8 *) data)[k] = (gint8) proto->int32_data[k];
          break;
        case KESTREL_DTYPE_UINT8:
        case KESTREL_DTYPE_BOOL:
          ((guint8 *) data)[k] = (guint8) proto->int32_data[k];
          break;
        default:
          g_assert_not_reached ();
        }
  return g_steal_pointer (&tensor);
}

KestrelTensor *
kestrel_onnx_tensor_from_bytes (GBytes *bytes, const char *origin, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  KestrelOnnx__TensorProto *proto = kestrel_onnx__tensor_proto__unpack (NULL, size, data);
  KestrelTensor *tensor;

  if (proto == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s is not a valid ONNX TensorProto (protobuf parsing failed)", origin);
      return NULL;
    }
  tensor = tensor_from_proto (proto, origin, "the tensor", error);
  kestrel_onnx__tensor_proto__free_unpacked (proto, NULL);
  return tensor;
}

KestrelTensor *
kestrel_onnx_tensor_from_file (const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = kestrel_file_read (path, KESTREL_FILE_TENSOR, error);

  if (bytes == NULL)
    return NULL;
  return kestrel_onnx_tensor_from_bytes (bytes, path, error);
}

GBytes *
kestrel_onnx_tensor_to_bytes (KestrelTensor *tensor, const char *name)
{
  KestrelOnnx__TensorProto proto = KESTREL_ONNX__TENSOR_PROTO__INIT;
  guint n_dims = kestrel_tensor_get_n_dims (tensor);
  gint64 dims[KESTREL_TENSOR_MAX_DIMS];
  gsize size;
  guint8 *buffer;

  for (guint d = 0; d < n_dims; d++)
    dims[d] = kestrel_tensor_get_dim (tensor, d);
  proto.n_dims = n_dims;
  proto.dims = (int64_t *) dims;
  proto.has_data_type = TRUE;
  proto.data_type = kestrel_onnx_dtype_to_onnx (kestrel_tensor_get_dtype (tensor));
  proto.name = (char *) (name != NULL ? name : "");
  proto.has_raw_data = TRUE;
  proto.raw_data.len = kestrel_tensor_get_n_bytes (tensor);
  proto.raw_data.data = kestrel_tensor_get_data (tensor);

  size = kestrel_onnx__tensor_proto__get_packed_size (&proto);
  buffer = g_malloc (MAX (size, 1));
  kestrel_onnx__tensor_proto__pack (&proto, buffer);
  return g_bytes_new_take (buffer, size);
}

gboolean
kestrel_onnx_tensor_to_file (KestrelTensor *tensor, const char *name, const char *path,
                             GError **error)
{
  g_autoptr(GBytes) bytes = kestrel_onnx_tensor_to_bytes (tensor, name);
  gsize size;
  gconstpointer data = g_bytes_get_data (bytes, &size);

  return g_file_set_contents (path, data, size, error);
}

/* ---- graphs -------------------------------------------------------------- */

typedef struct {
  const char *origin;
  KestrelGraph *graph;
} Loader;

static gboolean
read_value_info (Loader *loader, const KestrelOnnx__ValueInfoProto *info, gint index,
                 gboolean is_input, GError **error)
{
  KestrelValue *value = kestrel_graph_value (loader->graph, index);
  const KestrelOnnx__TypeProto__Tensor *tensor_type;
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  KestrelDType dtype;

  if (info->type == NULL || info->type->value_case != KESTREL_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE)
    {
      if (!is_input)
        return TRUE; /* an output's type is inferred anyway */
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: graph input '%s' is not a tensor (sequences and maps are not supported)",
                   loader->origin, value->name);
      return FALSE;
    }
  tensor_type = info->type->tensor_type;
  if (!dtype_from_onnx (tensor_type->elem_type, &dtype))
    {
      if (!is_input)
        return TRUE;
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: graph input '%s' has element type %s, which Kestrel does not support",
                   loader->origin, value->name, onnx_type_name (tensor_type->elem_type));
      return FALSE;
    }
  if (!is_input)
    return TRUE;
  if (tensor_type->shape == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: graph input '%s' has no shape; Kestrel needs static input shapes",
                   loader->origin, value->name);
      return FALSE;
    }
  if (tensor_type->shape->n_dim > KESTREL_TENSOR_MAX_DIMS)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "%s: graph input '%s' has %zu dimensions, at most %d are supported",
                   loader->origin, value->name, tensor_type->shape->n_dim, KESTREL_TENSOR_MAX_DIMS);
      return FALSE;
    }
  /* A symbolic or unknown dimension is free: the first is the batch (one
   * image unless a plan says otherwise); any other must be pinned to a
   * size before the graph is prepared (kestrel_graph_set_input_shape). */
  guint free_dims = 0;
  for (gsize d = 0; d < tensor_type->shape->n_dim; d++)
    {
      const KestrelOnnx__TensorShapeProto__Dimension *dim = tensor_type->shape->dim[d];
      if (dim->value_case == KESTREL_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE
          && dim->dim_value >= 0)
        shape[d] = dim->dim_value;
      else
        {
          shape[d] = d == 0 ? 1 : -1;
          free_dims |= 1u << d;
        }
    }
  kestrel_value_set_shape (value, dtype, tensor_type->shape->n_dim, shape);
  value->free_dims = free_dims;
  value->has_shape = (free_dims & ~1u) == 0;
  return TRUE;
}

/* ONNX bytes as a C string. An empty or absent value has no data pointer,
 * and g_strndup (NULL, 0) is NULL, not "": attributes would hold NULL
 * where every reader expects text (found by fuzzing: strcmp on RoiAlign's
 * mode). */
static char *
dup_bytes (const ProtobufCBinaryData *bytes)
{
  return bytes->data != NULL ? g_strndup ((const char *) bytes->data, bytes->len) : g_strdup ("");
}

static gboolean
read_attribute (Loader *loader, KestrelNode *node, const KestrelOnnx__AttributeProto *proto,
                GError **error)
{
  KestrelAttr *attr;
  const char *name = proto->name != NULL ? proto->name : "";
  int type = proto->has_type ? (int) proto->type : 0;

  /* Very old files leave the type out; guess it from what is set. */
  if (type == 0)
    type = proto->t != NULL ? KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR
           : proto->n_ints ? KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS
           : proto->n_floats ? KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS
           : proto->n_strings ? KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS
           : proto->has_s ? KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING
           : proto->has_f ? KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT
           : KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;

  switch (type)
    {
    case KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT:
      kestrel_node_set_attr_float (node, name, proto->f);
      return TRUE;
    case KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT:
      kestrel_node_set_attr_int (node, name, proto->i);
      return TRUE;
    case KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING:
      attr = kestrel_node_add_attr (node, name, KESTREL_ATTR_STRING);
      attr->s = dup_bytes (&proto->s);
      return TRUE;
    case KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
      attr = kestrel_node_add_attr (node, name, KESTREL_ATTR_FLOATS);
      attr->n = proto->n_floats;
      attr->floats = g_memdup2 (proto->floats, proto->n_floats * sizeof (float));
      return TRUE;
    case KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
      kestrel_node_set_attr_ints (node, name, (const gint64 *) proto->ints, proto->n_ints);
      return TRUE;
    case KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
      attr = kestrel_node_add_attr (node, name, KESTREL_ATTR_STRINGS);
      attr->n = proto->n_strings;
      attr->strings = g_new0 (char *, proto->n_strings + 1);
      for (gsize i = 0; i < proto->n_strings; i++)
        attr->strings[i] = dup_bytes (&proto->strings[i]);
      return TRUE;
    case KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
      {
        g_autofree char *what = g_strdup_printf ("attribute '%s' of node '%s'", name, node->name);
        KestrelTensor *t;
        if (proto->t == NULL)
          {
            kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                    "tensor attribute '%s' has no tensor", name);
            return FALSE;
          }
        t = tensor_from_proto (proto->t, loader->origin, what, error);
        if (t == NULL)
          return FALSE;
        kestrel_node_add_attr (node, name, KESTREL_ATTR_TENSOR)->t = t;
        return TRUE;
      }
    default:
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "attribute '%s' is a graph, sparse tensor or type (ONNX type %d); "
                              "Kestrel does not run subgraphs", name, type);
      return FALSE;
    }
}

/* A Constant node becomes a constant value: there is nothing to run. */
static gboolean
read_constant_node (Loader *loader, KestrelNode *node, gint output, GError **error)
{
  const KestrelAttr *attr = NULL;
  g_autoptr(KestrelTensor) tensor = NULL;
  KestrelValue *value = kestrel_graph_value (loader->graph, output);

  if (node->attrs->len != 1)
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                              "a Constant needs exactly one attribute, it has %u", node->attrs->len);
      return FALSE;
    }
  attr = g_ptr_array_index (node->attrs, 0);
  if (strcmp (attr->name, "value") == 0 && attr->type == KESTREL_ATTR_TENSOR)
    tensor = kestrel_tensor_ref (attr->t);
  else if (strcmp (attr->name, "value_float") == 0 && attr->type == KESTREL_ATTR_FLOAT)
    {
      tensor = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 0, NULL, error);
      *(float *) kestrel_tensor_get_data (tensor) = attr->f;
    }
  else if (strcmp (attr->name, "value_int") == 0 && attr->type == KESTREL_ATTR_INT)
    {
      tensor = kestrel_tensor_new (KESTREL_DTYPE_INT64, 0, NULL, error);
      *(gint64 *) kestrel_tensor_get_data (tensor) = attr->i;
    }
  else if (strcmp (attr->name, "value_floats") == 0 && attr->type == KESTREL_ATTR_FLOATS)
    {
      gint64 n = attr->n;
      tensor = kestrel_tensor_new (KESTREL_DTYPE_FLOAT32, 1, &n, error);
      if (n > 0)
        memcpy (kestrel_tensor_get_data (tensor), attr->floats, n * sizeof (float));
    }
  else if (strcmp (attr->name, "value_ints") == 0 && attr->type == KESTREL_ATTR_INTS)
    {
      gint64 n = attr->n;
      tensor = kestrel_tensor_new (KESTREL_DTYPE_INT64, 1, &n, error);
      if (n > 0)
        memcpy (kestrel_tensor_get_data (tensor), attr->ints, n * sizeof (gint64));
    }
  else
    {
      kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                              "Constant attribute '%s' is not supported (value, value_float, "
                              "value_floats, value_int, value_ints are)", attr->name);
      return FALSE;
    }
  if (tensor == NULL)
    return FALSE;
  value->constant = kestrel_tensor_ref (tensor);
  kestrel_value_set_shape (value, kestrel_tensor_get_dtype (tensor),
                           kestrel_tensor_get_n_dims (tensor), kestrel_tensor_get_shape (tensor));
  return TRUE;
}

static gboolean
read_node (Loader *loader, const KestrelOnnx__NodeProto *proto, guint position, GError **error)
{
  KestrelGraph *graph = loader->graph;
  gint index;
  KestrelNode *node;

  if (proto->op_type == NULL || proto->op_type[0] == '\0')
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s: node %u ('%s') has no op_type", loader->origin, position,
                   proto->name ? proto->name : "");
      return FALSE;
    }
  index = kestrel_graph_add_node (graph, proto->domain, proto->op_type, proto->name);
  node = kestrel_graph_node (graph, index);

  for (gsize a = 0; a < proto->n_attribute; a++)
    if (!read_attribute (loader, node, proto->attribute[a], error))
      return FALSE;

  for (gsize i = 0; i < proto->n_input; i++)
    kestrel_node_add_input (node, proto->input[i][0] == '\0'
                                  ? -1 : kestrel_graph_intern_value (graph, proto->input[i]));
  for (gsize o = 0; o < proto->n_output; o++)
    {
      gint v = proto->output[o][0] == '\0' ? -1 : kestrel_graph_intern_value (graph, proto->output[o]);
      if (v >= 0)
        {
          const KestrelValue *value = kestrel_graph_value (graph, v);
          if (value->constant != NULL || value->is_input)
            {
              kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                      "output '%s' is also a graph input or an initializer",
                                      value->name);
              return FALSE;
            }
        }
      kestrel_node_add_output (graph, index, v);
    }

  if (strcmp (node->op_type, "Constant") == 0 && node->domain[0] == '\0')
    {
      if (kestrel_node_n_outputs (node) != 1 || kestrel_node_output (node, 0) < 0)
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_CORRUPT,
                                  "a Constant must have exactly one output");
          return FALSE;
        }
      if (!read_constant_node (loader, node, kestrel_node_output (node, 0), error))
        return FALSE;
      node->removed = TRUE;
      kestrel_graph_value (graph, kestrel_node_output (node, 0))->producer = -1;
    }
  return TRUE;
}

static gboolean
read_graph (Loader *loader, const KestrelOnnx__GraphProto *proto, GError **error)
{
  KestrelGraph *graph = loader->graph;

  graph->name = g_strdup (proto->name);

  for (gsize i = 0; i < proto->n_initializer; i++)
    {
      const KestrelOnnx__TensorProto *init = proto->initializer[i];
      g_autofree char *what = NULL;
      KestrelTensor *tensor;
      gint v;

      if (init->name == NULL || init->name[0] == '\0')
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                       "%s: initializer %zu has no name", loader->origin, i);
          return FALSE;
        }
      what = g_strdup_printf ("initializer '%s'", init->name);
      tensor = tensor_from_proto (init, loader->origin, what, error);
      if (tensor == NULL)
        return FALSE;
      v = kestrel_graph_intern_value (graph, init->name);
      g_clear_pointer (&kestrel_graph_value (graph, v)->constant, kestrel_tensor_unref);
      kestrel_graph_value (graph, v)->constant = tensor;
      kestrel_value_set_shape (kestrel_graph_value (graph, v), kestrel_tensor_get_dtype (tensor),
                               kestrel_tensor_get_n_dims (tensor), kestrel_tensor_get_shape (tensor));
    }

  for (gsize i = 0; i < proto->n_input; i++)
    {
      const char *name = proto->input[i]->name;
      gint v;

      if (name == NULL || name[0] == '\0')
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                       "%s: graph input %zu has no name", loader->origin, i);
          return FALSE;
        }
      v = kestrel_graph_intern_value (graph, name);
      /* IR < 4 lists initializers as inputs too; they stay constants. */
      if (kestrel_graph_value (graph, v)->constant != NULL)
        continue;
      if (kestrel_graph_value (graph, v)->is_input)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                       "%s: graph input '%s' is listed twice", loader->origin, name);
          return FALSE;
        }
      if (!read_value_info (loader, proto->input[i], v, TRUE, error))
        return FALSE;
      kestrel_graph_value (graph, v)->is_input = TRUE;
      g_array_append_val (graph->inputs, v);
    }

  for (gsize n = 0; n < proto->n_node; n++)
    if (!read_node (loader, proto->node[n], n, error))
      return FALSE;

  if (proto->n_output == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT, "%s: the graph has no outputs",
                   loader->origin);
      return FALSE;
    }
  for (gsize i = 0; i < proto->n_output; i++)
    {
      const char *name = proto->output[i]->name;
      gint v = name != NULL ? kestrel_graph_find_value (graph, name) : -1;

      if (v < 0)
        {
          g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                       "%s: graph output '%s' is not produced by any node", loader->origin,
                       name ? name : "");
          return FALSE;
        }
      kestrel_graph_value (graph, v)->is_output = TRUE;
      g_array_append_val (graph->outputs, v);
    }

  /* Drop the Constant nodes (now constant values) before ordering. */
  kestrel_graph_compact (graph);
  if (!kestrel_graph_sort (graph, error))
    {
      g_prefix_error (error, "%s: ", loader->origin);
      return FALSE;
    }
  return TRUE;
}

KestrelGraph *
kestrel_onnx_load_graph (GBytes *bytes, const char *origin, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  KestrelOnnx__ModelProto *model;
  Loader loader = { origin, NULL };
  gboolean have_opset = FALSE;

  /* An empty protobuf is a valid, empty ModelProto: say what it is. */
  if (size == 0)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s is empty (0 bytes), not an ONNX model", origin);
      return NULL;
    }
  model = kestrel_onnx__model_proto__unpack (NULL, size, data);
  if (model == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s is not a valid ONNX model (protobuf parsing failed: the file is "
                   "truncated, damaged or not ONNX)", origin);
      return NULL;
    }
  if (model->graph == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s is not an ONNX model: it holds no graph (another kind of protobuf file?)",
                   origin);
      kestrel_onnx__model_proto__free_unpacked (model, NULL);
      return NULL;
    }

  loader.graph = kestrel_graph_new ();
  loader.graph->ir_version = model->ir_version;
  loader.graph->producer = g_strdup (model->producer_name);
  for (gsize i = 0; i < model->n_opset_import; i++)
    {
      const char *domain = model->opset_import[i]->domain;
      if (domain == NULL || domain[0] == '\0' || strcmp (domain, "ai.onnx") == 0)
        {
          loader.graph->opset = model->opset_import[i]->version;
          have_opset = TRUE;
        }
    }
  if (!have_opset)
    loader.graph->opset = 1; /* IR 1/2 files without an opset import */

  if (loader.graph->opset < KESTREL_ONNX_MIN_OPSET || loader.graph->opset > KESTREL_ONNX_MAX_OPSET)
    g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                 "%s uses ONNX opset %" G_GINT64_FORMAT "; Kestrel supports opsets %d to %d",
                 origin, loader.graph->opset, KESTREL_ONNX_MIN_OPSET, KESTREL_ONNX_MAX_OPSET);
  else if (read_graph (&loader, model->graph, error))
    {
      kestrel_onnx__model_proto__free_unpacked (model, NULL);
      return loader.graph;
    }

  kestrel_onnx__model_proto__free_unpacked (model, NULL);
  kestrel_graph_free (loader.graph);
  return NULL;
}

char **
kestrel_onnx_list_op_types (GBytes *bytes, const char *origin, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  KestrelOnnx__ModelProto *model = size > 0 ? kestrel_onnx__model_proto__unpack (NULL, size, data) : NULL;
  g_autoptr(GPtrArray) ops = NULL;

  if (model == NULL || model->graph == NULL)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_CORRUPT,
                   "%s is not an ONNX model (empty, damaged or another kind of protobuf file)",
                   origin);
      if (model != NULL)
        kestrel_onnx__model_proto__free_unpacked (model, NULL);
      return NULL;
    }
  ops = g_ptr_array_new_with_free_func (g_free);
  for (gsize n = 0; n < model->graph->n_node; n++)
    {
      const char *op = model->graph->node[n]->op_type;
      if (op != NULL && op[0] != '\0' && !g_ptr_array_find_with_equal_func (ops, op, g_str_equal, NULL))
        g_ptr_array_add (ops, g_strdup (op));
    }
  kestrel_onnx__model_proto__free_unpacked (model, NULL);
  g_ptr_array_add (ops, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&ops), FALSE);
}
