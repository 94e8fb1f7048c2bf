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
 *   map_qlinear       QLinearConv / QLinearMatMul on the integer kernels
 *                     where that is exact (kestrel-passes-qlinear.c)
 */
#pragma once

#include "kestrel-graph.h"
#include "kestrel-quant-table.h"

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

/* What the INT8 pass needs the fast passes to leave apart: every tensor it
 * quantises must be one the FP32 calibration observed (a model value), so
 * no Conv absorbs a residual Add (the Conv's own output gets its range) and
 * no depthwise Conv merges with the pointwise one after it. */
typedef enum {
  KESTREL_FAST_DEFAULT = 0,
  KESTREL_FAST_NO_RESIDUAL = 1 << 0,   /* fuse: no Conv + Add */
  KESTREL_FAST_NO_DW_PW = 1 << 1,      /* to_nhwc: no kestrel.DwPwNhwc */
  KESTREL_FAST_KEEP_REFERENCE_GEMMS = 1 << 2, /* no kestrel.ConvNchw, kestrel.MatMulPacked */
} KestrelFastFlags;

/* The graph the SIMD levels run: a prepared copy of `prepared` after fuse
 * and to_nhwc. A plan at those levels never has more steps than the
 * reference: Convs and MaxPools whose conversion to NHWC left a Transpose
 * on both sides are kept as they are, until the count is no larger. */
KestrelGraph *kestrel_graph_new_fast (const KestrelGraph *prepared, KestrelFastFlags flags, GError **error);

/* Channel padding as a Concat with constant zeros becomes kestrel.PadAxis,
 * which stores no zeros (kestrel-passes-pad.c says which Concats); on a
 * prepared graph, which it leaves prepared. kestrel_graph_new_fast() runs
 * it. */
gboolean kestrel_graph_zero_concat_to_pad (KestrelGraph *graph, GError **error);

/* The SIMD levels' rewrites; the graph must have been prepared. */
gboolean kestrel_graph_fuse (KestrelGraph *graph, KestrelFastFlags flags, GError **error);
gboolean kestrel_graph_to_nhwc (KestrelGraph *graph, KestrelFastFlags flags, GError **error);

/* The INT8 rewrite (kestrel-passes-quant.c says what it quantises): on a
 * graph from kestrel_graph_new_fast (KESTREL_FAST_NO_RESIDUAL |
 * KESTREL_FAST_NO_DW_PW), replaces the operators the INT8 kernels run by
 * their kestrel.Q* versions on u8 tensors, with QuantizeU8 / DequantizeU8
 * where float and INT8 parts meet, and prepares the graph again. Each
 * tensor's parameters come from `table` under its model name; `reference`
 * (the prepared graph the fast one was made from) tells a tensor of the
 * model the table lacks (an error naming it) from one the passes made
 * (its operator stays float). Layers named in `fp32_layers` stay float. */
gboolean kestrel_graph_quantize (KestrelGraph *graph, const KestrelGraph *reference,
                                 const KestrelQuantTable *table, const char *const *fp32_layers,
                                 GError **error);
/* The same for an INT4 plan (int4 TRUE): the one-group convolutions not
 * named in int8_layers get INT4 weights (w_int4 on their QConvNhwc). */
gboolean kestrel_graph_quantize_int4 (KestrelGraph *graph, const KestrelGraph *reference,
                                      const KestrelQuantTable *table, const char *const *fp32_layers,
                                      gboolean int4, const char *const *int8_layers, GError **error);

/* The FP16 rewrite (kestrel-passes-fp16.c says what it converts and what
 * stays FP32): on a graph from kestrel_graph_new_fast(), the weights of the
 * gemm layers (one-group kestrel.ConvNhwc, the pointwise half of
 * kestrel.DwPwNhwc) become float16 constants rounded to the nearest half.
 * Layers named in `fp32_layers`, and layers with a weight beyond the half
 * range, keep their float32 weights. */
void kestrel_graph_to_fp16 (KestrelGraph *graph, const char *const *fp32_layers);

/* QDQ files in (kestrel-passes-qdq.c): on a graph as loaded, before it is
 * prepared, takes QuantizeLinear -> DequantizeLinear pairs off the
 * activations and DequantizeLinear off the Convs' integer weights and bias,
 * recording the parameters (*taken; NULL when the file has none). After
 * kestrel_graph_prepare, kestrel_qdq_taken_to_table() makes them the
 * model's calibration table (u8 parameters by tensor name, the Convs with
 * float weights as FP32 layers), from which INT8 plans give the file's
 * integers and scales. */
typedef struct _KestrelQdqTaken KestrelQdqTaken;
gboolean kestrel_graph_take_qdq (KestrelGraph *graph, KestrelQdqTaken **taken, GError **error);
KestrelQuantTable *kestrel_qdq_taken_to_table (const KestrelQdqTaken *taken, const KestrelGraph *prepared,
                                               const char *model_hash);
KestrelQdqTaken *kestrel_qdq_taken_copy (const KestrelQdqTaken *taken);
void kestrel_qdq_taken_free (KestrelQdqTaken *taken);

/* The SIMD levels' pass for models quantized elsewhere
 * (kestrel-passes-qlinear.c): QLinearConv and QLinearMatMul nodes whose
 * parameters fit the integer kernels bit for bit become
 * kestrel.QLinearConvPacked / kestrel.QLinearMatMulPacked; the others keep
 * the reason as the attribute "kestrel_reference_why". Before prepare
 * (the renamed nodes need resolving). */
void kestrel_graph_map_qlinear (KestrelGraph *graph);

/* The only node reading `value`, or NULL if there are several, none, or the
 * value is a graph output (whose contents must stay as they are). */
KestrelNode *kestrel_graph_single_reader (const KestrelGraph *graph, gint value);
/* Whether `node` is a Relu, or a Clip with constant bounds, and its clamp. */
gboolean kestrel_graph_activation_bounds (const KestrelGraph *graph, const KestrelNode *node, float *lo,
                                          float *hi);

/* The name in the model of the tensor `value` stands for: the "model_value"
 * attribute of the node producing it as its first output (the fast passes
 * set it on the nodes they move to NHWC), else the value's own name. */
const char *kestrel_graph_get_model_value_name (const KestrelGraph *graph, gint value);

G_END_DECLS
