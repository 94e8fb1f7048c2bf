/* kestrel-onnx.h — reading ONNX files into a KestrelGraph, and ONNX
 * TensorProto files (the format of the ONNX conformance data and of
 * `kestrel-cli run-model`) to and from KestrelTensors.
 *
 * Parsing uses protobuf-c with kestrel-onnx.proto, compiled at build time.
 * Everything a file can get wrong becomes a GError naming the file and, for
 * graph problems, the node, the op and what was expected.
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-graph.h"
#include "kestrel-tensor.h"

G_BEGIN_DECLS

/* The ai.onnx opsets the loader accepts; each operator then says which
 * opsets' semantics it implements (kestrel-op.h). */
#define KESTREL_ONNX_MIN_OPSET 1
#define KESTREL_ONNX_MAX_OPSET 21

/* Parses a model. The graph is topologically sorted; initializers and
 * Constant nodes become constant values; graph inputs that are also
 * initializers count as constants (ONNX IR < 4 lists them as inputs).
 * `origin` names the model in errors (a path or a resource URI). */
KestrelGraph *kestrel_onnx_load_graph (GBytes *bytes, const char *origin, GError **error);

/* The op types of a model's main graph, each once, in file order, without
 * the checks of kestrel_onnx_load_graph (so a model whose inputs have a
 * data type Kestrel lacks still says which operators it uses: the
 * conformance table). NULL-terminated; g_strfreev() it. */
char **kestrel_onnx_list_op_types (GBytes *bytes, const char *origin, GError **error);

/* One serialized TensorProto <-> a tensor (float32, float16, int8, uint8,
 * int32, int64, bool; raw_data or the typed fields). */
KestrelTensor *kestrel_onnx_tensor_from_bytes (GBytes *bytes, const char *origin, GError **error);
KestrelTensor *kestrel_onnx_tensor_from_file (const char *path, GError **error);
GBytes *kestrel_onnx_tensor_to_bytes (KestrelTensor *tensor, const char *name);
gboolean kestrel_onnx_tensor_to_file (KestrelTensor *tensor, const char *name, const char *path,
                                      GError **error);

/* The ONNX TensorProto data type of a Kestrel dtype (0 when it has none). */
int kestrel_onnx_dtype_to_onnx (KestrelDType dtype);

/* A graph as an ONNX model file (kestrel-onnx-write.c): every node not
 * removed, in graph order, with its attributes; every constant a node
 * reads as an initializer (raw data); the inputs and outputs with their
 * types and shapes. Only ai.onnx operators can be written: a node of
 * another domain (a pass's kestrel.* operator) is an error naming it.
 * `opset` is the ai.onnx opset the file imports. */
GBytes *kestrel_onnx_graph_to_bytes (const KestrelGraph *graph, gint64 opset, const char *producer,
                                     GError **error);

G_END_DECLS
