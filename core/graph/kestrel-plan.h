/* kestrel-plan.h — a model made ready to run: model x precision x level x
 * threads (x batch).
 *
 * Building a plan applies the level's graph passes (fusion and the NHWC
 * layout at simd/full), prepares every operator (packs weights), and puts
 * all activations in one arena planned from their lifetimes. A plan is
 * immutable once built; kestrel_plan_run() allocates nothing, so a
 * steady-state inference touches no heap. Reconfiguring means building a new
 * plan (off the hot path) and swapping it in.
 *
 * A plan runs one inference at a time: callers that share one across
 * threads must serialise kestrel_plan_run().
 */
#pragma once

#include "kestrel-kernels.h"
#include "kestrel-model.h"
#include "kestrel-op.h"
#include "kestrel-quant-table.h"
#include "kestrel-thread-pool.h"

G_BEGIN_DECLS

typedef enum {
  KESTREL_PRECISION_FP32,
  KESTREL_PRECISION_FP16,
  KESTREL_PRECISION_INT8,
  KESTREL_PRECISION_INT4,
} KestrelPrecision;

const char *kestrel_precision_name (KestrelPrecision precision);   /* "fp32", ... */
gboolean kestrel_precision_from_name (const char *name, KestrelPrecision *out);
/* Whether plans can be built at @precision (what a UI should offer). */
gboolean kestrel_precision_is_supported (KestrelPrecision precision);
/* INT8 or INT4: u8 activations, a calibration table, the same bits at
 * every level (the canary compares exactly). */
gboolean kestrel_precision_is_integer (KestrelPrecision precision);

typedef struct {
  kk_level level;
  /* Threads at the parallel levels (0 = the pool's count or all cores);
   * ignored at scalar and simd, which run on the calling thread. */
  guint n_threads;
  /* A pool to share with other plans; NULL makes the plan its own. */
  KestrelThreadPool *pool;
  KestrelPrecision precision;
  /* Items per run: the first dimension of every input and output. 0 keeps
   * the model's. Another batch than the model's rebuilds the graph from
   * the model's source graph (kestrel_graph_set_batch), so N inputs run at
   * once: the NHWC gemms see M = N * H * W. Item i of input or output is
   * the i-th of its N equal slices (kestrel_plan_get_input_slice). At the
   * simd and full levels the first steps, whose activations are large, run
   * image by image so those stay as cache-sized as at batch 1; only the
   * later, small layers run on all N at once. */
  guint batch;
  /* INT8 and INT4 (required there, unless the model is a QDQ file, whose
   * own table, kestrel_model_get_quant_table(), is then used): the
   * calibration table of this model (kestrel_calibrate(), core/quant/). The
   * plan keeps a reference. */
  KestrelQuantTable *quant_table;
  /* INT8 and FP16: node names (NULL-terminated, may be NULL) whose layers
   * stay FP32: mixed precision. The plan keeps a copy, at INT8 with the
   * table's own FP32 layers (kestrel_quant_table_get_fp32_layers) added. */
  const char *const *fp32_layers;
  /* INT4 only: node names (NULL-terminated, may be NULL) of one-group
   * convolutions kept INT8 (the sensitive ones), with the table's own
   * (kestrel_quant_table_get_int8_layers) added. Depthwise convolutions are
   * always INT8; every other INT8 convolution gets INT4 weights. */
  const char *const *int8_layers;
  /* INT8 only: the steps left float run the level's kernels, not the
   * reference ones. Faster, but the outputs are then no longer the same
   * bits at every level: for the sensitivity search
   * (kestrel-mixed-precision.h), which measures error against FP32, never
   * for plans the canary compares. */
  gboolean float_steps_at_level;
} KestrelPlanOptions;

/* level full, all cores, fp32, the model's batch, no table.
 *
 * An INT8 plan is the same graph at every level (the fast passes without
 * Conv + Add fusion or depthwise + pointwise merging, then the INT8 pass,
 * kestrel-passes.h): the level picks only the kernels (scalar = the
 * reference kernels) and the threads, and every level and thread count
 * gives bit-identical outputs. The steps the INT8 pass leaves float (and
 * the layers kept FP32) run the reference kernels at every level for that
 * reason: exact, but no faster at simd than at scalar.
 *
 * An FP16 plan is the fast graph at every level too, its gemm layers' weights
 * made IEEE half (kestrel_graph_to_fp16): the plan keeps the packed halves,
 * the gemm kernels widen them a tile at a time, activations and sums stay
 * FP32. Its FP16 gemms give the same bits at every level (gemm_f16 in
 * kestrel-kernels.h); its FP32 steps (depthwise, pooling, activations)
 * differ by rounding as at FP32, so the scalar FP16 plan is the oracle the
 * canary compares with a tolerance, as at FP32. */
void kestrel_plan_options_init (KestrelPlanOptions *options);

typedef struct _KestrelPlan KestrelPlan;

KestrelPlan *kestrel_plan_new (KestrelModel *model, const KestrelPlanOptions *options,
                               GError **error);
KestrelPlan *kestrel_plan_ref (KestrelPlan *plan);
void kestrel_plan_unref (KestrelPlan *plan);

const KestrelPlanOptions *kestrel_plan_get_options (const KestrelPlan *plan);
KestrelModel *kestrel_plan_get_model (const KestrelPlan *plan);
/* The graph the plan runs (after its level's and precision's passes): its
 * steps' nodes refer to its values. Read-only, lives as long as the plan. */
const KestrelGraph *kestrel_plan_get_graph (const KestrelPlan *plan);
/* Items per run (the model's batch when the options left it 0). */
guint kestrel_plan_get_batch (const KestrelPlan *plan);

/* Inputs: write the data here before kestrel_plan_run(). Outputs: read them
 * after. The views (and their data) live as long as the plan. Names are the
 * model's. */
guint kestrel_plan_get_n_inputs (const KestrelPlan *plan);
guint kestrel_plan_get_n_outputs (const KestrelPlan *plan);
const KestrelTensorView *kestrel_plan_get_input (const KestrelPlan *plan, guint i);
const KestrelTensorView *kestrel_plan_get_output (const KestrelPlan *plan, guint i);
/* Item `item` of input / output i: the view's first dimension is 1 and its
 * data points into the plan's tensor. FALSE when i or item is out of range
 * (or the tensor has no first dimension). */
gboolean kestrel_plan_get_input_slice (const KestrelPlan *plan, guint i, guint item,
                                       KestrelTensorView *slice);
gboolean kestrel_plan_get_output_slice (const KestrelPlan *plan, guint i, guint item,
                                        KestrelTensorView *slice);
const char *kestrel_plan_get_input_name (const KestrelPlan *plan, guint i);
const char *kestrel_plan_get_output_name (const KestrelPlan *plan, guint i);

void kestrel_plan_run (KestrelPlan *plan);
/* Runs steps `first` .. n - 1 only, for a caller that has already written
 * what those steps read from earlier ones into the earlier steps' output
 * views (the sensitivity search: a mix that is FP32 up to a layer starts
 * there, from the FP32 plan's values). A plan that runs its first steps
 * image by image (batch > 1) runs whole. */
void kestrel_plan_run_from (KestrelPlan *plan, guint first);

/* What the plan is made of, for `inspect`, diagnostics and the canary. A
 * step that runs image by image (batch > 1, see KestrelPlanOptions.batch)
 * has no room for the whole batch of an output that only the next such
 * steps read: that view's data is NULL (kestrel_plan_run_observed() shows
 * it). */
gsize kestrel_plan_get_arena_bytes (const KestrelPlan *plan);
guint kestrel_plan_get_n_steps (const KestrelPlan *plan);
const KestrelStep *kestrel_plan_get_step (const KestrelPlan *plan, guint i);

/* Per step: the precision it computes in (INT8 for the operators that read
 * or write u8 activations, the conversions included, INT4 for those of
 * them whose weights are INT4; FP16 for the steps
 * whose weights are half; FP32 otherwise), and the bytes of the constants
 * it reads (weights, bias, weight scales, as the plan's graph holds them:
 * s8 / s32 at INT8, half weights and float bias at FP16). The plan's total
 * counts each constant once. */
KestrelPrecision kestrel_plan_get_step_precision (const KestrelPlan *plan, guint step);
gsize kestrel_plan_get_step_weight_bytes (const KestrelPlan *plan, guint step);
/* INT8 plans whose table went through the sensitivity search
 * (kestrel-mixed-precision.h): the error of the step's output (its model
 * value) against FP32 over the calibration frames, as measured for the
 * table's own mix of layers. FALSE when the table has no such figure. */
gboolean kestrel_plan_get_step_error (const KestrelPlan *plan, guint step, double *mse, double *sqnr_db);
gsize kestrel_plan_get_weight_bytes (const KestrelPlan *plan);

/* Runs once, timing each step (ns into step_ns[n_steps]; a step that runs
 * image by image, summed over the images). Not for the hot path: it reads
 * the clock around every step. */
void kestrel_plan_run_profiled (KestrelPlan *plan, guint64 *step_ns);

/* Runs once, calling `observe` after each step (with the step's outputs
 * filled). For diagnostics such as the canary's search for the layer that
 * went wrong: slow, and `observe` may allocate. When the plan runs some
 * steps image by image, the first call builds a copy of it that runs every
 * step on the whole batch, and `observe` is given that copy; the results
 * land in this plan's outputs all the same. */
typedef void (*KestrelPlanObserver) (const KestrelPlan *plan, guint step, gpointer user_data);
void kestrel_plan_run_observed (KestrelPlan *plan, KestrelPlanObserver observe, gpointer user_data);

/* The name of the model value a step's first output stands for: the
 * output's own name for reference operators; for the fast path's fused
 * NHWC operators, the (NCHW) value the fused chain produced in the model.
 * NULL when the step's output has no counterpart in the model. */
const char *kestrel_plan_get_step_model_value (const KestrelPlan *plan, guint step);
/* Whether the step's first output is NHWC where the model value is NCHW. */
gboolean kestrel_plan_step_is_nhwc (const KestrelPlan *plan, guint step);

/* Test-only: makes the step computing node `node_name` add `error` to the
 * first element of its output on every run, like a faulty kernel would.
 * FALSE when no step has that name. */
gboolean kestrel_plan_inject_fault_for_testing (KestrelPlan *plan, const char *node_name, float error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelPlan, kestrel_plan_unref)

G_END_DECLS
