/* kestrel-model.h — a loaded ONNX model, immutable and shareable.
 *
 * Loading parses the file (core/onnx/), checks its structure and runs the
 * passes every plan needs (shape inference, constant folding). Plans of any
 * level, precision and thread count are then built from the same model.
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-graph.h"
#include "kestrel-quant-table.h"

G_BEGIN_DECLS

typedef struct _KestrelModel KestrelModel;

KestrelModel *kestrel_model_new_from_file (const char *path, GError **error);
/* `origin` names the model in errors ("resource:///.../front.onnx"). */
KestrelModel *kestrel_model_new_from_bytes (GBytes *bytes, const char *origin, GError **error);
/* Takes ownership of a graph from kestrel_onnx_load_graph(), possibly edited
 * (for example graph inputs turned into constants), and prepares it. The
 * graph is freed on error too. */
KestrelModel *kestrel_model_new_from_graph (KestrelGraph *graph, const char *origin, GError **error);
/* The same, with graph inputs planned at the given shapes: a
 * NULL-terminated list of "NAME=D0xD1x..." (see kestrel-input-shape.h);
 * NULL or empty keeps the file's. An input with a free dimension (other
 * than the batch) must be given one, or loading fails naming it. */
KestrelModel *kestrel_model_new_from_bytes_at (GBytes *bytes, const char *origin,
                                               const char *const *input_shapes, GError **error);
KestrelModel *kestrel_model_new_from_graph_at (KestrelGraph *graph, const char *origin,
                                               const char *const *input_shapes, GError **error);
/* The model again at other input sizes (only the dimensions the file left
 * free can change), prepared from its source graph: how a caller plans a
 * model at the size of the frames it gets. */
KestrelModel *kestrel_model_new_at_input_shapes (KestrelModel *model, const char *const *input_shapes,
                                                 GError **error);
/* Whether an input has a free dimension other than the batch. */
gboolean kestrel_model_has_free_inputs (const KestrelModel *model);
KestrelModel *kestrel_model_ref (KestrelModel *model);
void kestrel_model_unref (KestrelModel *model);

const char *kestrel_model_get_origin (const KestrelModel *model);
/* The graph after shape inference and constant folding. Read-only. */
const KestrelGraph *kestrel_model_get_graph (const KestrelModel *model);
/* The graph as loaded, before any pass: what plans at another batch size
 * start from. Read-only. */
const KestrelGraph *kestrel_model_get_source_graph (const KestrelModel *model);
/* The batch the model was exported with (the first dimension of its
 * inputs), or 0 when it has none (a scalar input). */
guint kestrel_model_get_batch (const KestrelModel *model);

guint kestrel_model_get_n_inputs (const KestrelModel *model);
guint kestrel_model_get_n_outputs (const KestrelModel *model);
const KestrelValue *kestrel_model_get_input (const KestrelModel *model, guint i);
const KestrelValue *kestrel_model_get_output (const KestrelModel *model, guint i);

/* Multiply-accumulates of one inference (Conv, Gemm, MatMul), and the
 * weight bytes. */
guint64 kestrel_model_get_macs (const KestrelModel *model);
gsize kestrel_model_get_weight_bytes (const KestrelModel *model);

/* What the model computes, as 64 hex digits (SHA-256 of the prepared
 * graph: tensors, weights, operators, attributes, wiring, input sizes):
 * the key a calibration table is cached under. Equal for the same file at
 * the same input sizes however it was loaded. */
const char *kestrel_model_get_content_hash (const KestrelModel *model);

/* The calibration table a quantised (QDQ) file carries: its scales and
 * zero points by tensor name, its float-weight Convs as the FP32 layers
 * (kestrel-passes-qdq.c); INT8 plans of the model use it when the plan
 * options give none. NULL for a float model. Owned by the model. */
KestrelQuantTable *kestrel_model_get_quant_table (const KestrelModel *model);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelModel, kestrel_model_unref)

G_END_DECLS
