/* ops-shape.h — private to the ops-shape-*.c files: the tensor-shape
 * reference operators (ONNX semantics) and the strided copy they share.
 *
 * Shape operators move bytes and never look at values, so they take every
 * data type Kestrel has. Shapes that depend on another input (Reshape's
 * shape, Slice's starts...) must be constants: Kestrel plans every shape
 * before running, and says so when a model computes one at run time.
 *
 * Reshape, Flatten, Squeeze, Unsqueeze and Identity are views: their output
 * shares the input's memory (output_aliases_input), and their run() copies
 * only when the planner could not share it (a constant input, for one).
 */
#pragma once

#include "kestrel-op-util.h"

G_BEGIN_DECLS

/* ops-shape.c: views and metadata. */
extern const KestrelOpDef kestrel_op_reshape_1;
extern const KestrelOpDef kestrel_op_reshape;
extern const KestrelOpDef kestrel_op_flatten;
extern const KestrelOpDef kestrel_op_squeeze_1;
extern const KestrelOpDef kestrel_op_squeeze_13;
extern const KestrelOpDef kestrel_op_unsqueeze_1;
extern const KestrelOpDef kestrel_op_unsqueeze_13;
extern const KestrelOpDef kestrel_op_identity;
extern const KestrelOpDef kestrel_op_dropout;
extern const KestrelOpDef kestrel_op_shape;
extern const KestrelOpDef kestrel_op_size;
extern const KestrelOpDef kestrel_op_constant_of_shape;
extern const KestrelOpDef kestrel_op_cast_1;
extern const KestrelOpDef kestrel_op_cast;
extern const KestrelOpDef kestrel_op_cast_like;

/* ops-shape-copy.c: operators that rearrange data. */
extern const KestrelOpDef kestrel_op_concat_1;
extern const KestrelOpDef kestrel_op_concat;
extern const KestrelOpDef kestrel_op_split_2;
extern const KestrelOpDef kestrel_op_split_13;
extern const KestrelOpDef kestrel_op_slice_1;
extern const KestrelOpDef kestrel_op_slice_10;
extern const KestrelOpDef kestrel_op_transpose;
extern const KestrelOpDef kestrel_op_gather;
extern const KestrelOpDef kestrel_op_expand;
extern const KestrelOpDef kestrel_op_tile;

/* ops-shape-index.c: by index tensors. */
extern const KestrelOpDef kestrel_op_gather_elements;
extern const KestrelOpDef kestrel_op_scatter;
extern const KestrelOpDef kestrel_op_scatter_elements;
extern const KestrelOpDef kestrel_op_gather_nd;
extern const KestrelOpDef kestrel_op_scatter_nd;
extern const KestrelOpDef kestrel_op_one_hot;
extern const KestrelOpDef kestrel_op_non_zero;

/* ops-shape-make.c */
extern const KestrelOpDef kestrel_op_range;
extern const KestrelOpDef kestrel_op_eye_like;
extern const KestrelOpDef kestrel_op_trilu;

/* ops-shape-depth.c */
extern const KestrelOpDef kestrel_op_depth_to_space;
extern const KestrelOpDef kestrel_op_space_to_depth;

/* Tile views a rank-n tensor as 2n dimensions. */
#define KESTREL_STRIDED_COPY_MAX_DIMS (2 * KESTREL_TENSOR_MAX_DIMS)

/* out[i0, i1, ...] = in[offset + i0 * stride[0] + i1 * stride[1] + ...],
 * output row-major and dense. A stride may be 0 (Expand repeats) or negative
 * (Slice with a negative step). Dimensions of size 1 are dropped and
 * dimensions that stay contiguous in the input are merged, so that a copy
 * whose rows are contiguous becomes one memcpy per row. */
typedef struct {
  guint n_dims;                                  /* >= 1 */
  gint64 shape[KESTREL_STRIDED_COPY_MAX_DIMS];
  gint64 stride[KESTREL_STRIDED_COPY_MAX_DIMS];  /* in elements */
  gint64 offset;                                 /* in elements */
  gsize elem_size;
  gsize n_elements;
} KestrelStridedCopy;

void kestrel_strided_copy_init (KestrelStridedCopy *copy, gsize elem_size, guint n_dims,
                                const gint64 *shape, const gint64 *stride, gint64 offset);

/* Runs the copy, over the step's pool when it is large. */
void kestrel_strided_copy_run (const KestrelStep *step, const KestrelStridedCopy *copy,
                               gconstpointer in, gpointer out);

/* Fails with KESTREL_ERROR_UNSUPPORTED when an output would have more
 * dimensions than Kestrel's tensors have. */
gboolean kestrel_shape_check_rank (const KestrelNode *node, gint64 rank, GError **error);

/* A constant int32 / int64 input as the step sees it, into values[]
 * (at most `max`); returns the count. */
guint kestrel_shape_view_ints (const KestrelTensorView *view, gint64 *values, guint max);

G_END_DECLS
