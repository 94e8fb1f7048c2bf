/* kestrel-input-shape.h — pinning a graph input's free dimensions.
 *
 * Plans are static: every activation has one shape, fixed when the plan is
 * built. A model whose input has a symbolic size (a detector that takes any
 * HxW, an OCR recogniser of any width) is planned at a size the caller
 * picks: from an option ("images=1x3x320x320"), from the data it was given,
 * or from the frame. Another size is another plan.
 */
#pragma once

#include "kestrel-graph.h"

G_BEGIN_DECLS

/* The largest input Kestrel plans at, in elements (a 4096x4096 RGB float
 * image is 50 M): a mistyped size fails here rather than in the allocator. */
#define KESTREL_INPUT_MAX_ELEMENTS ((gint64) 1 << 26)

/* Parses "NAME=D0xD1x...". Fails, naming the spec, on a missing name, a
 * dimension that is not a positive integer or too many dimensions. */
gboolean kestrel_input_shape_parse (const char *spec, char **name, guint *n_dims,
                                    gint64 shape[KESTREL_TENSOR_MAX_DIMS], GError **error);

/* Gives graph input `name` this shape. Only the dimensions the file left
 * free (KestrelValue.free_dims) may change; the rank must match. Fails with
 * an error naming the input when there is no such input, the rank differs,
 * a fixed dimension differs or the input would be too large. */
gboolean kestrel_graph_set_input_shape (KestrelGraph *graph, const char *name, guint n_dims,
                                        const gint64 *shape, GError **error);

/* kestrel_input_shape_parse + kestrel_graph_set_input_shape for each spec
 * of a NULL-terminated list (NULL is an empty list). */
gboolean kestrel_graph_set_input_shapes (KestrelGraph *graph, const char *const *specs, GError **error);

/* "1x?x?x3": the input's shape with its unpinned free dimensions as '?'. */
char *kestrel_value_describe_input_shape (const KestrelValue *value) G_GNUC_WARN_UNUSED_RESULT;

/* Fails, naming the first graph input with an unpinned free dimension and
 * saying how to pin it; TRUE when every input has a static shape. */
gboolean kestrel_graph_check_inputs_pinned (const KestrelGraph *graph, GError **error);

G_END_DECLS
