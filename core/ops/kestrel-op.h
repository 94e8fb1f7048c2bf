/* kestrel-op.h — how an operator plugs into the engine.
 *
 * Every operator is a const KestrelOpDef with three hooks:
 *
 *   infer    graph time: checks attributes and input types and shapes and
 *            sets the output values' dtype and shape. It may read constant
 *            inputs (Reshape's shape). Errors name the node (use
 *            kestrel_node_set_error) and say what was expected.
 *   prepare  plan time, optional: parses attributes into step->state,
 *            packs weights, asks for scratch memory (step->scratch_bytes).
 *   run      run time: reads step->inputs, writes step->outputs. It must not
 *            allocate, must not fail (everything was checked before), and
 *            may split its work over step->pool.
 *
 * Reference operators (domain "") implement ONNX semantics (NCHW for
 * convolutions) with plain C loops; at the simd/full levels they may use
 * step->kernels for elementwise work. The engine's own fast operators
 * (domain "kestrel", NHWC) are created by graph passes, never by models.
 */
#pragma once

#include <glib.h>

#include "kestrel-graph.h"
#include "kestrel-kernels.h"
#include "kestrel-tensor.h"
#include "kestrel-thread-pool.h"

G_BEGIN_DECLS

/* A tensor as a step sees it: shape and where its data lives (in the plan's
 * arena, in a constant, or in the caller's buffer). */
typedef struct {
  KestrelDType dtype;
  guint n_dims;
  gint64 shape[KESTREL_TENSOR_MAX_DIMS];
  gsize n_elements;
  gpointer data;
} KestrelTensorView;

/* The view of a value with a static shape: its data is the constant's, or
 * NULL for an activation (the planner or the caller places it). */
void kestrel_tensor_view_init (KestrelTensorView *view, const KestrelValue *value);

typedef struct _KestrelStep KestrelStep;

struct _KestrelStep {
  const KestrelOpDef *op;
  const KestrelNode *node;      /* owned by the plan's graph */
  guint n_inputs, n_outputs;
  KestrelTensorView *inputs;    /* n_inputs; an omitted optional input has data == NULL */
  KestrelTensorView *outputs;
  /* Set by prepare(), freed with free_state when the plan goes. */
  gpointer state;
  GDestroyNotify free_state;
  /* prepare() sets the bytes it needs; the planner puts them in the arena. */
  gsize scratch_bytes;
  gpointer scratch;
  /* The execution context chosen for the plan. */
  kk_level level;
  const kk_kernels *kernels;    /* the level's table: scalar or best ISA */
  KestrelThreadPool *pool;      /* NULL at the single-thread levels */
};

struct _KestrelOpDef {
  const char *domain;           /* "" or "kestrel" */
  const char *op_type;
  gint64 min_opset, max_opset;  /* ai.onnx opsets whose semantics this implements */
  gboolean (*infer) (KestrelGraph *graph, KestrelNode *node, GError **error);
  gboolean (*prepare) (KestrelStep *step, GError **error);
  void (*run) (const KestrelStep *step);
  /* Output i may share input j's memory (Reshape, Squeeze, Identity...):
   * returns j, or -1. NULL means never. */
  gint (*output_aliases_input) (const KestrelNode *node, guint output);
};

/* The operator for (domain, op_type) at `opset`, or NULL. */
const KestrelOpDef *kestrel_op_lookup (const char *domain, const char *op_type, gint64 opset);

/* Every registered operator, for `kestrel-cli inspect` and the docs. */
const KestrelOpDef *const *kestrel_op_list (guint *n);

/* Runs the thread pool over [0, n) if the step has one, else inline. */
void kestrel_step_parallel_for (const KestrelStep *step, gsize n, KestrelParallelFunc func,
                                gpointer data);

G_END_DECLS
