/* kestrel-qdq-export.h — an INT8 plan's model as a standard QDQ ONNX file.
 *
 * What `kestrel-cli quantize` writes: the model's float graph (as loaded
 * and prepared: constants folded, batch normalisation in the convolutions)
 * with QuantizeLinear -> DequantizeLinear pairs on exactly the tensors the
 * internal INT8 plan (kestrel_plan_new at KESTREL_PRECISION_INT8 with the
 * same table) holds in u8, at the table's scales and zero points; the
 * weights of the convolutions that plan runs in INT8 as s8 initializers
 * with a DequantizeLinear per output channel (axis 0, the plan's scales),
 * their bias as s32 at input scale x weight scale; every layer the plan
 * keeps FP32 (the table's mixed-precision choice) left in float.
 *
 * Kestrel loads such a file back as an INT8 plan (kestrel-passes-qdq.c);
 * ONNX Runtime runs it with its own QDQ fusion (tests/peers).
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-model.h"
#include "kestrel-quant-table.h"

G_BEGIN_DECLS

/* The QDQ graph (see above); the table must be the model's. */
KestrelGraph *kestrel_qdq_export_graph (KestrelModel *model, const KestrelQuantTable *table, GError **error);

/* The same as an ONNX file's bytes (opset 13 or the model's, if newer). */
GBytes *kestrel_qdq_export (KestrelModel *model, const KestrelQuantTable *table, GError **error);

/* Written to `path` atomically: a file there stays as it was on error,
 * which names the path. */
gboolean kestrel_qdq_export_to_file (KestrelModel *model, const KestrelQuantTable *table, const char *path,
                                     GError **error);

G_END_DECLS
