/* kestrel-bench-run.c — the suite runner (see kestrel-bench.h).
 *
 * Order of work: the FP32 reference plan (scalar) runs each photo once for
 * the accuracy columns (output SQNR, and faces agreeing where a plugin
 * decodes the model); then rounds. In each round the cells are visited in
 * a new shuffled order; a cell's first visit builds its plan (timed),
 * times its first inference, warms it up and measures its accuracy, and
 * every visit then runs for the cell's share of its time cap (cap / rounds).
 * The first visit stops early once the 95% interval of the median is within
 * the target, having taken at least MIN_VISIT_RUNS samples so every round
 * has a median of its own; later visits take as many samples as the first
 * did (or fewer, at the time cap). Equal visits weigh every round alike in
 * the cell's median: on a shared or virtual machine the speed drifts by
 * several percent over seconds, and a median drawn mostly from one moment
 * would carry that moment's speed into the result. The plans stay built
 * for the whole run so later visits time the same plan.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "kestrel-bench-machine.h"
#include "kestrel-bench-private.h"
#include "kestrel-calibrate-images.h"
#include "kestrel-error.h"
#include "kestrel-stats.h"

#define MIN_VISIT_RUNS 5
/* Convergence is checked every few runs: it sorts every sample so far. */
#define CHECK_EVERY 8
#define DEFAULT_BIG_BATCH 4
#define MAX_BATCH 64
/* Notes: other processes' share of all cores, a median that moved between
 * rounds, a core frequency that moved during a visit. */
#define LOAD_NOTE_PERCENT 5.0
#define UNSTABLE_NOTE_FRACTION 0.05
#define FREQ_NOTE_FRACTION 0.05
/* The reference loop's own spread on a steady machine is about 1-2%
 * (Zen 5 virtual machine, busy or not with other processes). */
#define MACHINE_NOTE_FRACTION 0.03

typedef struct {
  KestrelBenchCell *cell;
  KestrelPlan *plan;            /* NULL for the peer's cell */
  KestrelBenchTotals totals;
  guint64 frames;
  guint visit_runs;             /* samples the first visit took; 0 before it */
} CellState;

typedef struct {
  const KestrelBenchOptions *options;
  const KestrelBenchPeer *peer;
  KestrelModel *model;
  GPtrArray *photos;            /* GBytes: one input each */
  GPtrArray *reference;         /* GBytes: the FP32 outputs of each photo, concatenated */
  GCancellable *cancellable;
  KestrelQuantTable *quant_table; /* integer cells': the engine's table */
  const char *model_name;
  KestrelBenchFaces *faces;     /* NULL: no faces-agreeing column */
} Run;

static gboolean
cancelled (Run *run, GError **error)
{
  return g_cancellable_set_error_if_cancelled (run->cancellable, error);
}

/* ---- axes ---------------------------------------------------------------- */

typedef struct {
  guint n_precisions, n_levels, n_threads, n_batches;
  KestrelPrecision precisions[KESTREL_BENCH_MAX_AXIS];
  kk_level levels[KESTREL_BENCH_MAX_AXIS];
  guint threads[KESTREL_BENCH_MAX_AXIS];
  guint batches[KESTREL_BENCH_MAX_AXIS];
} Axes;

static gboolean
resolve_axes (const KestrelBenchOptions *o, Axes *a, GError **error)
{
  memset (a, 0, sizeof *a);
  if (o->n_precisions == 0)
    {
      for (int p = KESTREL_PRECISION_FP32; p <= KESTREL_PRECISION_INT4; p++)
        if (kestrel_precision_is_supported (p))
          a->precisions[a->n_precisions++] = p;
    }
  else
    for (guint i = 0; i < MIN (o->n_precisions, KESTREL_BENCH_MAX_AXIS); i++)
      {
        if (!kestrel_precision_is_supported (o->precisions[i]))
          {
            g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                         "precision %s is not available in this build",
                         kestrel_precision_name (o->precisions[i]));
            return FALSE;
          }
        a->precisions[a->n_precisions++] = o->precisions[i];
      }
  if (o->n_levels == 0)
    {
      a->levels[a->n_levels++] = KK_LEVEL_SCALAR;
      a->levels[a->n_levels++] = KK_LEVEL_SIMD;
      a->levels[a->n_levels++] = KK_LEVEL_FULL;
    }
  else
    for (guint i = 0; i < MIN (o->n_levels, KESTREL_BENCH_MAX_AXIS); i++)
      {
        if ((int) o->levels[i] < 0 || o->levels[i] >= KK_LEVEL_COUNT)
          {
            g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT, "level %d does not exist",
                         (int) o->levels[i]);
            return FALSE;
          }
        a->levels[a->n_levels++] = o->levels[i];
      }
  if (o->n_threads == 0)
    {
      guint cores = MIN ((guint) g_get_num_processors (), KESTREL_BENCH_MAX_AXIS);
      for (guint t = 1; t <= cores; t++)
        a->threads[a->n_threads++] = t;
    }
  else
    for (guint i = 0; i < MIN (o->n_threads, KESTREL_BENCH_MAX_AXIS); i++)
      {
        if (o->threads[i] < 1 || o->threads[i] > KESTREL_THREAD_POOL_MAX_THREADS)
          {
            g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                         "threads %u is outside 1 to %d", o->threads[i], KESTREL_THREAD_POOL_MAX_THREADS);
            return FALSE;
          }
        a->threads[a->n_threads++] = o->threads[i];
      }
  if (o->n_batches == 0)
    {
      a->batches[a->n_batches++] = 1;
      a->batches[a->n_batches++] = DEFAULT_BIG_BATCH;
    }
  else
    for (guint i = 0; i < MIN (o->n_batches, KESTREL_BENCH_MAX_AXIS); i++)
      {
        if (o->batches[i] < 1 || o->batches[i] > MAX_BATCH)
          {
            g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                         "batch %u is outside 1 to %d", o->batches[i], MAX_BATCH);
            return FALSE;
          }
        a->batches[a->n_batches++] = o->batches[i];
      }
  return TRUE;
}

static gboolean
cell_exists (GPtrArray *states, KestrelPrecision p, kk_level l, guint t, guint b)
{
  for (guint i = 0; i < states->len; i++)
    {
      const KestrelBenchCell *c = ((CellState *) states->pdata[i])->cell;
      if (c->precision == p && c->level == l && c->threads == t && c->batch == b)
        return TRUE;
    }
  return FALSE;
}

static void
cell_state_free (CellState *s)
{
  if (s->plan != NULL)
    kestrel_plan_unref (s->plan);
  g_free (s);
}

/* The cells of the matrix; threads only vary at the parallel levels. */
static GPtrArray *
make_cells (const Axes *a, const KestrelBenchPeer *peer)
{
  GPtrArray *states = g_ptr_array_new_with_free_func ((GDestroyNotify) cell_state_free);

  for (guint p = 0; p < a->n_precisions; p++)
    for (guint l = 0; l < a->n_levels; l++)
      for (guint t = 0; t < a->n_threads; t++)
        for (guint b = 0; b < a->n_batches; b++)
          {
            guint threads = kk_level_is_parallel (a->levels[l]) ? a->threads[t] : 1;
            CellState *s;

            if (cell_exists (states, a->precisions[p], a->levels[l], threads, a->batches[b]))
              continue;
            s = g_new0 (CellState, 1);
            s->cell = kestrel_bench_cell_new ("kestrel", a->precisions[p], a->levels[l], threads, a->batches[b]);
            kestrel_bench_totals_init (&s->totals);
            g_ptr_array_add (states, s);
          }
  if (peer != NULL)
    {
      CellState *s = g_new0 (CellState, 1);
      s->cell = kestrel_bench_cell_new (peer->name, KESTREL_PRECISION_FP32, KK_LEVEL_FULL, peer->threads, 1);
      kestrel_bench_totals_init (&s->totals);
      g_ptr_array_add (states, s);
    }
  return states;
}

/* ---- inputs, outputs, accuracy --------------------------------------------- */

void
kestrel_bench_fill_noise (float *data, gsize n)
{
  guint32 state = 12345;

  for (gsize i = 0; i < n; i++)
    {
      state = state * 1664525u + 1013904223u;
      data[i] = (float) (state >> 8) / (float) (1u << 23) - 1.0f;
    }
}

/* Item `item` of the plan's input gets photo `photo` (or noise). */
static void
fill_item (Run *run, KestrelPlan *plan, guint item, guint photo)
{
  KestrelTensorView slice;

  if (!kestrel_plan_get_input_slice (plan, 0, item, &slice))
    return;
  if (run->photos->len > 0)
    memcpy (slice.data, g_bytes_get_data (run->photos->pdata[photo % run->photos->len], NULL),
            slice.n_elements * sizeof (float));
  else
    kestrel_bench_fill_noise (slice.data, slice.n_elements);
}

/* Float outputs of item `item`, concatenated (non-float outputs, such as
 * indices, have no SQNR and are left out). */
static GBytes *
dup_outputs (const KestrelPlan *plan, guint item)
{
  GByteArray *out = g_byte_array_new ();

  for (guint o = 0; o < kestrel_plan_get_n_outputs (plan); o++)
    {
      KestrelTensorView slice;
      if (kestrel_plan_get_output_slice (plan, o, item, &slice) && slice.dtype == KESTREL_DTYPE_FLOAT32
          && slice.data != NULL)
        g_byte_array_append (out, slice.data, slice.n_elements * sizeof (float));
    }
  return g_byte_array_free_to_bytes (out);
}

static gboolean
make_reference (Run *run, GError **error)
{
  KestrelPlanOptions options;
  g_autoptr(KestrelPlan) plan = NULL;

  run->reference = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  kestrel_plan_options_init (&options);
  options.level = KK_LEVEL_SCALAR;
  options.batch = 1;
  plan = kestrel_plan_new (run->model, &options, error);
  if (plan == NULL)
    return FALSE;
  if (kestrel_plan_get_n_inputs (plan) != 1 || kestrel_plan_get_input (plan, 0)->dtype != KESTREL_DTYPE_FLOAT32)
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "benchmarks run models with one float32 input (this one has %u inputs)",
                   kestrel_plan_get_n_inputs (plan));
      return FALSE;
    }
  run->photos = kestrel_bench_photo_inputs (kestrel_plan_get_input (plan, 0), run->options->samples_dir);
  if (run->photos->len > 0)
    run->faces = kestrel_bench_faces_new (run->model, run->model_name);
  for (guint i = 0; i < run->photos->len; i++)
    {
      if (cancelled (run, error))
        return FALSE;
      fill_item (run, plan, 0, i);
      kestrel_plan_run (plan);
      g_ptr_array_add (run->reference, dup_outputs (plan, 0));
      if (run->faces != NULL && !kestrel_bench_faces_add_reference (run->faces, plan))
        g_clear_pointer (&run->faces, kestrel_bench_faces_free);
    }
  return TRUE;
}

/* SQNR of the cell's outputs against the reference, over every photo:
 * 10 log10 (sum ref^2 / sum (ref - out)^2). INFINITY when identical. */
static void
measure_accuracy (Run *run, CellState *s)
{
  KestrelPlan *plan = s->plan;
  guint batch = kestrel_plan_get_batch (plan);
  double signal = 0, noise = 0;

  if (run->photos->len == 0)
    return;
  if (run->faces != NULL)
    s->cell->faces_fp32 = 0;
  for (guint first = 0; first < run->photos->len; first += batch)
    {
      for (guint item = 0; item < batch; item++)
        fill_item (run, plan, item, first + item);
      kestrel_plan_run (plan);
      for (guint item = 0; item < batch && first + item < run->photos->len; item++)
        {
          g_autoptr(GBytes) out = dup_outputs (plan, item);
          gsize n_out, n_ref;
          const float *o = g_bytes_get_data (out, &n_out);
          const float *r = g_bytes_get_data (run->reference->pdata[first + item], &n_ref);
          for (gsize k = 0; k < MIN (n_out, n_ref) / sizeof (float); k++)
            {
              double d = (double) r[k] - (double) o[k];
              signal += (double) r[k] * (double) r[k];
              noise += d * d;
            }
          if (run->faces != NULL)
            kestrel_bench_faces_compare (run->faces, plan, item, first + item, s->cell);
        }
    }
  s->cell->sqnr_db = noise == 0 ? (double) INFINITY : 10.0 * log10 (signal / noise);
  /* The timed runs see the first photos, one per item. */
  for (guint item = 0; item < batch; item++)
    fill_item (run, plan, item, item);
}

/* The integer cells' calibration table: the engine's (the bundled samples
 * prepared as the model's decoder prepares frames, minmax, the layers the
 * sensitivity search keeps FP32, at INT4 the layers its search keeps
 * INT8; the user cache), so a cell times and measures the plan a user
 * runs. One per run, gaining the INT4 search when an INT4 cell needs it. */
static KestrelQuantTable *
integer_table (Run *run, KestrelPrecision precision, GError **error)
{
  if (run->quant_table == NULL
      || (precision == KESTREL_PRECISION_INT4 && !kestrel_quant_table_get_int4_searched (run->quant_table)))
    {
      KestrelQuantTable *table = kestrel_calibrate_images_for_model (run->model, precision, run->cancellable, error);
      if (table == NULL)
        return NULL;
      g_clear_pointer (&run->quant_table, kestrel_quant_table_unref);
      run->quant_table = table;
    }
  return run->quant_table;
}

/* ---- visits ---------------------------------------------------------------- */

static gboolean
first_visit (Run *run, CellState *s, GError **error)
{
  KestrelBenchCell *c = s->cell;
  KestrelPlanOptions options;
  guint64 start;

  kestrel_plan_options_init (&options);
  options.precision = c->precision;
  options.level = c->level;
  options.n_threads = c->threads;
  options.batch = c->batch;
  if (kestrel_precision_is_integer (c->precision) && (options.quant_table = integer_table (run, c->precision, error)) == NULL)
    return FALSE;
  start = kestrel_stats_now_ns ();
  s->plan = kestrel_plan_new (run->model, &options, error);
  if (s->plan == NULL)
    {
      g_autofree char *label = kestrel_bench_cell_dup_label (c);
      g_prefix_error (error, "%s: ", label);
      return FALSE;
    }
  c->build_ms = (kestrel_stats_now_ns () - start) / 1e6;
  c->arena_bytes = kestrel_plan_get_arena_bytes (s->plan);
  /* The model's weights, or at INT8 and INT4 the plan's (s8 or nibble
   * weights, s32 biases). */
  c->weight_bytes = kestrel_precision_is_integer (c->precision) ? kestrel_plan_get_weight_bytes (s->plan)
                                                           : kestrel_model_get_weight_bytes (run->model);
  for (guint item = 0; item < c->batch; item++)
    fill_item (run, s->plan, item, item);
  start = kestrel_stats_now_ns ();
  kestrel_plan_run (s->plan);
  c->first_run_ms = (kestrel_stats_now_ns () - start) / 1e6;
  measure_accuracy (run, s);
  for (guint i = 0; i < run->options->warmup_runs; i++)
    {
      if (cancelled (run, error))
        return FALSE;
      kestrel_plan_run (s->plan);
    }
  return TRUE;
}

static gboolean
converged (KestrelBenchCell *c, double target)
{
  kestrel_bench_cell_update_stats (c);
  return c->samples_ms->len >= 2 * MIN_VISIT_RUNS && c->median_ms > 0
         && (c->ci_high_ms - c->ci_low_ms) / 2.0 <= target * c->median_ms;
}

static gboolean
visit (Run *run, CellState *s, double slice_s, GError **error)
{
  KestrelBenchCell *c = s->cell;
  guint first = c->samples_ms->len, runs = 0;
  guint64 start = kestrel_stats_now_ns (), limit = (guint64) (slice_s * 1e9);
  KestrelBenchProbe probe;
  double round_median, reference = kestrel_bench_reference_loop_ms ();

  g_array_append_val (c->reference_ms, reference);
  kestrel_bench_probe_start (&probe);
  for (;;)
    {
      if (cancelled (run, error))
        return FALSE;
      if (s->plan != NULL)
        {
          guint64 t0 = kestrel_stats_now_ns ();
          kestrel_plan_run (s->plan);
          double ms = (kestrel_stats_now_ns () - t0) / 1e6;
          g_array_append_val (c->samples_ms, ms);
          runs++;
        }
      else
        {
          guint before = c->samples_ms->len;
          if (!run->peer->run (run->peer->peer, CHECK_EVERY, c->samples_ms, error))
            return FALSE;
          runs += c->samples_ms->len - before;
        }
      if (runs < MIN_VISIT_RUNS)
        continue;
      if (kestrel_stats_now_ns () - start >= limit)
        break;
      if (s->visit_runs > 0 && runs >= s->visit_runs)
        break;
      if (s->visit_runs == 0 && runs % CHECK_EVERY == 0 && converged (c, run->options->target_ci))
        break;
    }
  if (s->visit_runs == 0)
    s->visit_runs = runs;
  kestrel_bench_probe_stop (&probe, &s->totals);
  s->frames += (guint64) runs * c->batch;
  round_median = kestrel_stats_median ((double *) (void *) c->samples_ms->data + first, runs);
  g_array_append_val (c->round_medians_ms, round_median);
  return TRUE;
}

/* ---- after the rounds -------------------------------------------------------- */

static void
finish_cell (const KestrelBenchResult *r, const KestrelBenchOptions *o, CellState *s)
{
  KestrelBenchCell *c = s->cell;
  const KestrelBenchTotals *t = &s->totals;
  double lo = G_MAXDOUBLE, hi = 0;

  /* A peer runs in a process of its own: this process's CPU time is not
   * its cost, and its own use would count as other processes' load. */
  gboolean kestrel_cell = s->plan != NULL;

  kestrel_bench_cell_update_stats (c);
  if (s->frames > 0 && kestrel_cell)
    c->cpu_ms_per_frame = t->cpu_ns / 1e6 / (double) s->frames;
  if (s->frames > 0 && t->energy_ok && t->visits > 0)
    c->energy_mj_per_frame = t->energy_uj / 1e3 / (double) s->frames;
  if (kestrel_cell && t->sys_ok && t->sys_total > 0 && t->wall_ns > 0)
    {
      double all = 100.0 * (double) t->sys_busy / (double) t->sys_total;
      double ours = 100.0 * (double) t->cpu_ns / ((double) t->wall_ns * MAX (r->cores, 1));
      c->other_cpu_percent = MAX (all - ours, 0.0);
    }
  c->freq_drift_percent = isnan (t->max_freq_drift) ? (double) NAN : 100.0 * t->max_freq_drift;
  c->throttle_events = (guint) t->throttle_events;

  if (r->governor != NULL && strcmp (r->governor, "performance") != 0)
    kestrel_bench_cell_add_note (c, KESTREL_BENCH_NOTE_GOVERNOR,
                                 "The CPU frequency governor is %s, not performance: the clock may have "
                                 "changed with the load.", r->governor);
  if (!isnan (c->other_cpu_percent) && c->other_cpu_percent > LOAD_NOTE_PERCENT)
    kestrel_bench_cell_add_note (c, KESTREL_BENCH_NOTE_LOAD,
                                 "Other processes used %.0f%% of the CPU while this cell ran.",
                                 c->other_cpu_percent);
  if (!isnan (c->freq_drift_percent) && c->freq_drift_percent > 100.0 * FREQ_NOTE_FRACTION)
    kestrel_bench_cell_add_note (c, KESTREL_BENCH_NOTE_FREQUENCY,
                                 "A core's frequency moved by %.0f%% during the cell.", c->freq_drift_percent);
  if (c->throttle_events > 0)
    kestrel_bench_cell_add_note (c, KESTREL_BENCH_NOTE_THROTTLE,
                                 "The CPU was thermally throttled %u times during the cell.", c->throttle_events);
  for (guint i = 0; i < c->round_medians_ms->len; i++)
    {
      double m = g_array_index (c->round_medians_ms, double, i);
      lo = MIN (lo, m);
      hi = MAX (hi, m);
    }
  if (c->round_medians_ms->len > 1 && c->median_ms > 0 && (hi - lo) / c->median_ms > UNSTABLE_NOTE_FRACTION)
    kestrel_bench_cell_add_note (c, KESTREL_BENCH_NOTE_UNSTABLE,
                                 "The median moved by %.0f%% between rounds (%.3f to %.3f ms).",
                                 100.0 * (hi - lo) / c->median_ms, lo, hi);
  lo = G_MAXDOUBLE, hi = 0;
  for (guint i = 0; i < c->reference_ms->len; i++)
    {
      double m = g_array_index (c->reference_ms, double, i);
      lo = MIN (lo, m);
      hi = MAX (hi, m);
    }
  if (c->reference_ms->len > 1 && lo > 0 && (hi - lo) / lo > MACHINE_NOTE_FRACTION)
    kestrel_bench_cell_add_note (c, KESTREL_BENCH_NOTE_MACHINE,
                                 "The machine's own speed changed by %.0f%% between this cell's rounds (a fixed "
                                 "reference loop took %.3f to %.3f ms): a busy host or a changed clock.",
                                 100.0 * (hi - lo) / lo, lo, hi);
  if (c->median_ms > 0 && (c->ci_high_ms - c->ci_low_ms) / 2.0 > o->target_ci * c->median_ms)
    kestrel_bench_cell_add_note (c, KESTREL_BENCH_NOTE_NOISY,
                                 "The 95%% interval of the median is +-%.1f%%, wider than the %.0f%% "
                                 "aimed at, within the time cap.",
                                 100.0 * (c->ci_high_ms - c->ci_low_ms) / 2.0 / c->median_ms,
                                 100.0 * o->target_ci);
}

static char *
sha256_of (GBytes *bytes)
{
  gsize size;
  gconstpointer data;

  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &size);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
}

static void
shuffle (GRand *rand, CellState **order, guint n)
{
  for (guint i = n; i > 1; i--)
    {
      guint j = g_rand_int_range (rand, 0, i);
      CellState *tmp = order[i - 1];
      order[i - 1] = order[j];
      order[j] = tmp;
    }
}

KestrelBenchResult *
kestrel_bench_run (KestrelModel *model, const char *model_name, GBytes *model_bytes,
                   const KestrelBenchOptions *options, const KestrelBenchPeer *peer,
                   KestrelBenchProgress progress, gpointer user_data,
                   GCancellable *cancellable, GError **error)
{
  g_autoptr(KestrelBenchResult) r = NULL;
  g_autoptr(GPtrArray) states = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree CellState **order = NULL;
  Run run = { options, peer, model, NULL, NULL, cancellable, NULL, model_name, NULL };
  Axes axes;
  guint64 run_start = kestrel_stats_now_ns ();
  guint done = 0, total;
  double slice_s, ref_median, ref_low, ref_high;
  gboolean ok = FALSE;

  g_return_val_if_fail (model != NULL && options != NULL, NULL);
  if (!(options->time_per_cell_s > 0) || options->rounds < 1 || !(options->target_ci > 0))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
                   "time per cell, rounds and the target interval must be positive");
      return NULL;
    }
  if (!resolve_axes (options, &axes, error))
    return NULL;

  r = kestrel_bench_result_new ();
  r->created = g_date_time_format_iso8601 (now);
  kestrel_bench_describe_machine (r);
  r->model_name = g_strdup (model_name != NULL ? model_name : kestrel_model_get_origin (model));
  r->model_sha256 = sha256_of (model_bytes);
  r->multiply_adds = kestrel_model_get_macs (model);
  r->weight_bytes = kestrel_model_get_weight_bytes (model);
  r->time_per_cell_s = options->time_per_cell_s;
  r->rounds = options->rounds;
  r->target_ci = options->target_ci;
  r->seed = options->seed != 0 ? options->seed : (guint) g_random_int_range (1, G_MAXINT32);
  r->energy_note = kestrel_bench_energy_note ();
  if (peer != NULL)
    r->ort_version = g_strdup (peer->version);
  if (r->governor == NULL)
    g_ptr_array_add (r->notes, g_strdup ("The kernel exposes no CPU frequency governor or frequencies "
                                         "(no cpufreq: a virtual machine?), so clock changes cannot be "
                                         "seen."));
  rand = g_rand_new_with_seed (r->seed);

  if (!make_reference (&run, error))
    goto out;
  r->n_photos = run.photos->len;
  if (run.photos->len == 0)
    g_ptr_array_add (r->notes, g_strdup ("No photos: cells ran on a fixed pseudo-random input and "
                                         "have no accuracy figure."));

  states = make_cells (&axes, peer);
  order = g_new (CellState *, states->len);
  memcpy (order, states->pdata, states->len * sizeof (CellState *));
  total = states->len * options->rounds;
  slice_s = options->time_per_cell_s / options->rounds;

  for (guint round = 0; round < options->rounds; round++)
    {
      shuffle (rand, order, states->len);
      for (guint i = 0; i < states->len; i++)
        {
          CellState *s = order[i];
          if (cancelled (&run, error))
            goto out;
          if (s->cell->samples_ms->len == 0 && s->plan == NULL && g_strcmp0 (s->cell->engine, "kestrel") == 0
              && !first_visit (&run, s, error))
            goto out;
          if (!visit (&run, s, slice_s, error))
            goto out;
          done++;
          if (progress != NULL)
            {
              double elapsed = (kestrel_stats_now_ns () - run_start) / 1e9;
              progress (done, total, elapsed / done * (total - done), s->cell, user_data);
            }
        }
    }

  for (guint i = 0; i < states->len; i++)
    {
      CellState *s = states->pdata[i];
      finish_cell (r, options, s);
      g_ptr_array_add (r->cells, g_steal_pointer (&s->cell));
    }
  if (kestrel_bench_result_get_reference (r, &ref_median, &ref_low, &ref_high)
      && (ref_high - ref_low) / ref_low > MACHINE_NOTE_FRACTION)
    g_ptr_array_add (r->notes, g_strdup_printf ("The machine's own speed changed by %.0f%% during the run (a "
                                                "fixed reference loop, timed before every visit, took %.3f to "
                                                "%.3f ms): cells visited while it was slower are slower for that reason.",
                                                100.0 * (ref_high - ref_low) / ref_low, ref_low, ref_high));
  r->wall_s = (kestrel_stats_now_ns () - run_start) / 1e9;
  ok = TRUE;

out:
  if (states != NULL)
    for (guint i = 0; i < states->len; i++)
      kestrel_bench_cell_free (((CellState *) states->pdata[i])->cell);
  g_clear_pointer (&run.photos, g_ptr_array_unref);
  g_clear_pointer (&run.reference, g_ptr_array_unref);
  g_clear_pointer (&run.quant_table, kestrel_quant_table_unref);
  g_clear_pointer (&run.faces, kestrel_bench_faces_free);
  return ok ? g_steal_pointer (&r) : NULL;
}
