/* kestrel-onnx-write.c — a KestrelGraph as an ONNX model file (see
 * kestrel-onnx.h): what `kestrel-cli quantize` writes.
 *
 * The messages are built on the stack and in one GPtrArray of blocks freed
 * after packing: protobuf-c only reads them while packing, so nothing is
 * copied twice and nothing outlives the call.
 */
#include "config.h"

#include "kestrel-onnx.h"

#include <string.h>

#include "kestrel-error.h"
#include "kestrel-onnx.pb-c.h"

typedef struct {
  GPtrArray *blocks;     /* everything allocated for the messages */
} Writer;

static gpointer
take (Writer *w, gpointer block)
{
  g_ptr_array_add (w->blocks, block);
  return block;
}

static KestrelOnnx__TensorProto *
tensor_proto (Writer *w, KestrelTensor *tensor, const char *name)
{
  KestrelOnnx__TensorProto *proto = take (w, g_new (KestrelOnnx__TensorProto, 1));
  guint n_dims = kestrel_tensor_get_n_dims (tensor);
  int64_t *dims = take (w, g_new0 (int64_t, MAX (n_dims, 1)));

  kestrel_onnx__tensor_proto__init (proto);
  for (guint d = 0; d < n_dims; d++)
    dims[d] = kestrel_tensor_get_dim (tensor, d);
  proto->n_dims = n_dims;
  proto->dims = dims;
  proto->has_data_type = TRUE;
  proto->data_type = kestrel_onnx_dtype_to_onnx (kestrel_tensor_get_dtype (tensor));
  proto->name = (char *) name;
  proto->has_raw_data = TRUE;
  proto->raw_data.len = kestrel_tensor_get_n_bytes (tensor);
  proto->raw_data.data = kestrel_tensor_get_data (tensor);
  return proto;
}

static KestrelOnnx__ValueInfoProto *
value_info (Writer *w, const KestrelValue *value)
{
  KestrelOnnx__ValueInfoProto *info = take (w, g_new (KestrelOnnx__ValueInfoProto, 1));
  KestrelOnnx__TypeProto *type = take (w, g_new (KestrelOnnx__TypeProto, 1));
  KestrelOnnx__TypeProto__Tensor *tensor = take (w, g_new (KestrelOnnx__TypeProto__Tensor, 1));

  kestrel_onnx__value_info_proto__init (info);
  kestrel_onnx__type_proto__init (type);
  kestrel_onnx__type_proto__tensor__init (tensor);
  info->name = value->name;
  info->type = type;
  type->value_case = KESTREL_ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  type->tensor_type = tensor;
  tensor->has_elem_type = TRUE;
  tensor->elem_type = kestrel_onnx_dtype_to_onnx (value->dtype);
  if (value->has_shape)
    {
      KestrelOnnx__TensorShapeProto *shape = take (w, g_new (KestrelOnnx__TensorShapeProto, 1));
      KestrelOnnx__TensorShapeProto__Dimension **dims =
          take (w, g_new0 (KestrelOnnx__TensorShapeProto__Dimension *, MAX (value->n_dims, 1)));

      kestrel_onnx__tensor_shape_proto__init (shape);
      for (guint d = 0; d < value->n_dims; d++)
        {
          dims[d] = take (w, g_new (KestrelOnnx__TensorShapeProto__Dimension, 1));
          kestrel_onnx__tensor_shape_proto__dimension__init (dims[d]);
          dims[d]->value_case = KESTREL_ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
          dims[d]->dim_value = value->shape[d];
        }
      shape->n_dim = value->n_dims;
      shape->dim = dims;
      tensor->shape = shape;
    }
  return info;
}

static KestrelOnnx__AttributeProto *
attribute_proto (Writer *w, const KestrelAttr *attr)
{
  KestrelOnnx__AttributeProto *proto = take (w, g_new (KestrelOnnx__AttributeProto, 1));

  kestrel_onnx__attribute_proto__init (proto);
  proto->name = attr->name;
  proto->has_type = TRUE;
  switch (attr->type)
    {
    case KESTREL_ATTR_FLOAT:
      proto->type = KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
      proto->has_f = TRUE;
      proto->f = attr->f;
      break;
    case KESTREL_ATTR_INT:
      proto->type = KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
      proto->has_i = TRUE;
      proto->i = attr->i;
      break;
    case KESTREL_ATTR_STRING:
      proto->type = KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
      proto->has_s = TRUE;
      proto->s.data = (guint8 *) attr->s;
      proto->s.len = attr->s != NULL ? strlen (attr->s) : 0;
      break;
    case KESTREL_ATTR_TENSOR:
      proto->type = KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
      proto->t = tensor_proto (w, attr->t, "");
      break;
    case KESTREL_ATTR_FLOATS:
      proto->type = KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
      proto->n_floats = attr->n;
      proto->floats = attr->floats;
      break;
    case KESTREL_ATTR_INTS:
      proto->type = KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
      proto->n_ints = attr->n;
      proto->ints = (int64_t *) attr->ints;
      break;
    case KESTREL_ATTR_STRINGS:
      {
        ProtobufCBinaryData *strings = take (w, g_new0 (ProtobufCBinaryData, MAX (attr->n, 1)));
        for (guint i = 0; i < attr->n; i++)
          {
            strings[i].data = (guint8 *) attr->strings[i];
            strings[i].len = strlen (attr->strings[i]);
          }
        proto->type = KESTREL_ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
        proto->n_strings = attr->n;
        proto->strings = strings;
        break;
      }
    }
  return proto;
}

/* A value's name as a node input: "" for an omitted optional one. */
static char *
input_name (const KestrelGraph *graph, gint v)
{
  return v >= 0 ? kestrel_graph_value (graph, v)->name : "";
}

static KestrelOnnx__NodeProto *
node_proto (Writer *w, const KestrelGraph *graph, const KestrelNode *node)
{
  KestrelOnnx__NodeProto *proto = take (w, g_new (KestrelOnnx__NodeProto, 1));
  guint n_in = kestrel_node_n_inputs (node), n_out = kestrel_node_n_outputs (node);
  char **inputs = take (w, g_new0 (char *, MAX (n_in, 1)));
  char **outputs = take (w, g_new0 (char *, MAX (n_out, 1)));
  KestrelOnnx__AttributeProto **attrs = take (w, g_new0 (KestrelOnnx__AttributeProto *, MAX (node->attrs->len, 1)));

  kestrel_onnx__node_proto__init (proto);
  proto->name = node->name;
  proto->op_type = node->op_type;
  for (guint i = 0; i < n_in; i++)
    inputs[i] = input_name (graph, kestrel_node_input (node, i));
  /* Trailing omitted inputs are left out, as ONNX writers do. */
  while (n_in > 0 && inputs[n_in - 1][0] == '\0')
    n_in--;
  for (guint o = 0; o < n_out; o++)
    outputs[o] = input_name (graph, kestrel_node_output (node, o));
  for (guint a = 0; a < node->attrs->len; a++)
    attrs[a] = attribute_proto (w, g_ptr_array_index (node->attrs, a));
  proto->n_input = n_in;
  proto->input = inputs;
  proto->n_output = n_out;
  proto->output = outputs;
  proto->n_attribute = node->attrs->len;
  proto->attribute = attrs;
  return proto;
}

GBytes *
kestrel_onnx_graph_to_bytes (const KestrelGraph *graph, gint64 opset, const char *producer, GError **error)
{
  Writer w = { g_ptr_array_new_with_free_func (g_free) };
  KestrelOnnx__ModelProto model = KESTREL_ONNX__MODEL_PROTO__INIT;
  KestrelOnnx__GraphProto proto = KESTREL_ONNX__GRAPH_PROTO__INIT;
  KestrelOnnx__OperatorSetIdProto opset_id = KESTREL_ONNX__OPERATOR_SET_ID_PROTO__INIT;
  KestrelOnnx__OperatorSetIdProto *opsets[1] = { &opset_id };
  g_autoptr(GPtrArray) nodes = g_ptr_array_new ();
  g_autoptr(GPtrArray) initializers = g_ptr_array_new ();
  g_autoptr(GPtrArray) inputs = g_ptr_array_new ();
  g_autoptr(GPtrArray) outputs = g_ptr_array_new ();
  g_autofree gboolean *written = g_new0 (gboolean, graph->values->len);
  GBytes *bytes = NULL;
  gsize size;
  guint8 *buffer;

  for (guint n = 0; n < graph->nodes->len; n++)
    {
      const KestrelNode *node = kestrel_graph_node (graph, n);

      if (node->removed)
        continue;
      if (node->domain[0] != '\0')
        {
          kestrel_node_set_error (error, node, KESTREL_ERROR_UNSUPPORTED,
                                  "an operator of domain '%s' cannot be written to an ONNX file", node->domain);
          goto out;
        }
      g_ptr_array_add (nodes, node_proto (&w, graph, node));
      for (guint i = 0; i < kestrel_node_n_inputs (node); i++)
        {
          gint v = kestrel_node_input (node, i);
          const KestrelValue *value = kestrel_graph_value (graph, v);
          if (value != NULL && value->constant != NULL && !written[v])
            {
              written[v] = TRUE;
              g_ptr_array_add (initializers, tensor_proto (&w, value->constant, value->name));
            }
        }
    }
  for (guint i = 0; i < graph->inputs->len; i++)
    g_ptr_array_add (inputs, value_info (&w, kestrel_graph_value (graph, g_array_index (graph->inputs, gint, i))));
  for (guint i = 0; i < graph->outputs->len; i++)
    g_ptr_array_add (outputs, value_info (&w, kestrel_graph_value (graph, g_array_index (graph->outputs, gint, i))));

  proto.name = graph->name != NULL ? graph->name : "kestrel";
  proto.n_node = nodes->len;
  proto.node = (KestrelOnnx__NodeProto **) nodes->pdata;
  proto.n_initializer = initializers->len;
  proto.initializer = (KestrelOnnx__TensorProto **) initializers->pdata;
  proto.n_input = inputs->len;
  proto.input = (KestrelOnnx__ValueInfoProto **) inputs->pdata;
  proto.n_output = outputs->len;
  proto.output = (KestrelOnnx__ValueInfoProto **) outputs->pdata;

  opset_id.domain = "";
  opset_id.has_version = TRUE;
  opset_id.version = opset;
  /* IR 7 goes with opsets 13 and 14, 8 with 15 to 18, 9 with 19 and 20, 10
   * with 21: the oldest version that has the opset, for older readers. */
  model.has_ir_version = TRUE;
  model.ir_version = opset <= 12 ? MAX (graph->ir_version, 6) : opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
  model.n_opset_import = 1;
  model.opset_import = opsets;
  model.producer_name = (char *) (producer != NULL ? producer : "kestrel");
  model.graph = &proto;

  size = kestrel_onnx__model_proto__get_packed_size (&model);
  buffer = g_malloc (MAX (size, 1));
  kestrel_onnx__model_proto__pack (&model, buffer);
  bytes = g_bytes_new_take (buffer, size);

out:
  g_ptr_array_unref (w.blocks);
  return bytes;
}
