/* kestrel-passes.h — graph rewrites, run in this order:
 *
 *   resolve_ops       every node gets its KestrelOpDef (or a GError naming
 *                     the unsupported op)
 *   infer_shapes      every value gets a dtype and a static shape; a node
 *                     whose inputs are all constants is evaluated right
 *                     after its inference (the reference operator, once),
 *                     so shapes computed in the graph (Shape, Gather,
 *                     Concat, arithmetic...) are constants for the Reshape,
 *                     Resize, Slice, Pad or Expand that reads them
 *   fold_constants    drops the nodes inference evaluated
 *   fold_conv_affine  BatchNormalization, and Mul / Add / Sub / Div by one
 *                     constant per channel, after a Conv fold into its
 *                     weights and bias (kestrel-passes-conv.c)
 *   remove_dead       nodes nothing reads are dropped
 *
 * and, for the SIMD levels only (kestrel-passes-fast.c):
 *
 *   fuse              Conv + Add (residual) + Relu/Clip into one Conv
 *   to_nhwc           convolutions and pooling in NHWC with Transposes
 *                     around them, then Transposes cancelled and pushed
 *                     through elementwise ops until only the needed remain
 */
#pragma once

#include "kestrel-graph.h"

G_BEGIN_DECLS

gboolean kestrel_graph_resolve_ops (KestrelGraph *graph, GError **error);
gboolean kestrel_graph_infer_shapes (KestrelGraph *graph, GError **error);
gboolean kestrel_graph_fold_constants (KestrelGraph *graph, GError **error);
void kestrel_graph_fold_conv_affine (KestrelGraph *graph);
void kestrel_graph_remove_dead (KestrelGraph *graph);

/* resolve, infer, fold, remove dead, compact: what every model gets. */
gboolean kestrel_graph_prepare (KestrelGraph *graph, GError **error);

/* The batch of a graph: the first dimension its inputs share. Fails (naming
 * the input) when one is a scalar or they disagree. */
gboolean kestrel_graph_get_batch (const KestrelGraph *graph, gint64 *batch, GError **error);

/* Makes a graph as loaded (not yet prepared) run `batch` items at once:
 * sets the inputs' first dimension and rewrites the shape constants that
 * hold the exported batch (kestrel-batch.c says which). Fails with an error
 * naming the node when the model cannot be batched. */
gboolean kestrel_graph_set_batch (KestrelGraph *graph, gint64 batch, GError **error);

/* The graph the SIMD levels run: a prepared copy of `prepared` after fuse
 * and to_nhwc. A plan at those levels never has more steps than the
 * reference: Convs and MaxPools whose conversion to NHWC left a Transpose
 * on both sides are kept as they are, until the count is no larger. */
KestrelGraph *kestrel_graph_new_fast (const KestrelGraph *prepared, GError **error);

/* The SIMD levels' rewrites; the graph must have been prepared. */
gboolean kestrel_graph_fuse (KestrelGraph *graph, GError **error);
gboolean kestrel_graph_to_nhwc (KestrelGraph *graph, GError **error);

G_END_DECLS
