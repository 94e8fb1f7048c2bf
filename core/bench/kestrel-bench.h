/* kestrel-bench.h — benchmark suites: one model over a matrix of
 * precision x level x threads x batch, measured so the numbers can be
 * trusted, kept and compared.
 *
 * A suite run (kestrel_bench_run) builds one plan per cell, reports its
 * build time and first inference on their own, warms it up, then visits
 * the cells in several rounds, in a new shuffled order each round, so heat
 * and drift fall on every cell alike. Within a visit a cell runs until the
 * 95% confidence interval of its median (over all its samples so far) is
 * within the target (2%) of the median, or its share of the cell's time
 * cap is spent. Every latency sample is kept. Validity notes say what may
 * make a cell's numbers doubtful (governor, other load, frequency drift,
 * throttling, a median that moved between rounds); they are sentences,
 * meant to be shown, never hidden.
 *
 * The result (KestrelBenchResult) is self-describing: the machine, the
 * software, the model and every cell with its raw samples; see
 * kestrel-bench-result.h for the JSON file and CSV, and
 * kestrel-bench-compare.h for comparing two results.
 */
#pragma once

#include <gio/gio.h>

#include "kestrel-plan.h"

G_BEGIN_DECLS

#define KESTREL_BENCH_MAX_AXIS 16

typedef struct {
  /* Each axis is a list; a count of 0 means the default: every supported
   * precision (kestrel_precision_is_supported), levels scalar, simd and
   * full, threads 1 to the number of cores, batches 1 and 4. Threads only
   * vary at the parallel levels (parallel, full): scalar and simd run on
   * the calling thread, so they get one cell each at threads 1. */
  guint            n_precisions;
  KestrelPrecision precisions[KESTREL_BENCH_MAX_AXIS];
  guint            n_levels;
  kk_level         levels[KESTREL_BENCH_MAX_AXIS];
  guint            n_threads;
  guint            threads[KESTREL_BENCH_MAX_AXIS];
  guint            n_batches;
  guint            batches[KESTREL_BENCH_MAX_AXIS];

  double time_per_cell_s;   /* the cell's cap over all rounds; default 2 */
  guint  rounds;            /* visits per cell; default 3 */
  double target_ci;         /* CI half-width over the median; default 0.02 */
  guint  warmup_runs;       /* after the first inference; default 3 */
  guint  seed;              /* of the shuffles; 0 picks one (recorded) */

  /* A folder of photos (the bundled samples) for the accuracy check and
   * the timed input; NULL or no usable photo means a fixed pseudo-random
   * input and no accuracy. */
  const char *samples_dir;
} KestrelBenchOptions;

void kestrel_bench_options_init (KestrelBenchOptions *options);

/* The cell's validity notes as flags too, for a badge or a filter. */
typedef enum {
  KESTREL_BENCH_NOTE_GOVERNOR  = 1 << 0,  /* governor not performance */
  KESTREL_BENCH_NOTE_LOAD      = 1 << 1,  /* other processes used the CPU */
  KESTREL_BENCH_NOTE_FREQUENCY = 1 << 2,  /* frequency moved during the cell */
  KESTREL_BENCH_NOTE_THROTTLE  = 1 << 3,  /* thermal throttling counted */
  KESTREL_BENCH_NOTE_UNSTABLE  = 1 << 4,  /* median moved between rounds */
  KESTREL_BENCH_NOTE_NOISY     = 1 << 5,  /* CI never reached the target */
  KESTREL_BENCH_NOTE_MACHINE   = 1 << 6,  /* the machine's own speed changed */
} KestrelBenchNoteFlags;

typedef struct {
  /* "kestrel", or a peer's name ("onnxruntime"). */
  char            *engine;
  KestrelPrecision precision;
  kk_level         level;
  guint            threads;
  guint            batch;

  double build_ms;          /* kestrel_plan_new */
  double first_run_ms;      /* the first inference, cold */
  GArray *samples_ms;       /* double: every timed run (one batch each) */
  GArray *round_medians_ms; /* double: the median of each visit */
  /* double: the machine's reference loop (kestrel_bench_reference_loop_ms)
   * just before each visit; empty in files from before version 3. */
  GArray *reference_ms;

  /* From samples_ms (kestrel_bench_cell_update_stats). */
  double median_ms, p90_ms, p99_ms, mad_ms;
  double ci_low_ms, ci_high_ms;  /* 95% CI of the median (order statistics) */
  double frames_per_s;           /* batch / median */

  double cpu_ms_per_frame;       /* process CPU time (every thread) per frame */
  guint64 arena_bytes;           /* activations and scratch */
  guint64 weight_bytes;          /* the model's weights; at INT8 the plan's (s8, s32 bias) */
  double energy_mj_per_frame;    /* RAPL package energy; NAN if not read */
  double sqnr_db;                /* vs the FP32 reference; NAN none, INFINITY identical */
  /* Faces agreeing with the FP32 reference on the photos, decoded by the
   * model's task decoder at the model's own score threshold: an FP32 face
   * is matched when the cell finds one of the same label with IoU >=
   * KESTREL_BENCH_FACES_MIN_IOU and a score within
   * KESTREL_BENCH_FACES_MAX_SCORE_DIFFERENCE; extra faces are those only
   * the cell found. faces_fp32 is -1 when not measured (no photos, no
   * decoder for the model, a peer's cell, a file from before). */
  int    faces_fp32;
  guint  faces_matched;
  guint  faces_extra;
  double other_cpu_percent;      /* other processes, of all cores; NAN unknown */
  double freq_drift_percent;     /* largest core change; NAN unknown */
  guint  throttle_events;

  guint  note_flags;             /* KestrelBenchNoteFlags */
  GPtrArray *notes;              /* char*: one sentence each */
} KestrelBenchCell;

#define KESTREL_BENCH_FACES_MIN_IOU 0.9
#define KESTREL_BENCH_FACES_MAX_SCORE_DIFFERENCE 0.05

KestrelBenchCell *kestrel_bench_cell_new (const char *engine, KestrelPrecision precision,
                                          kk_level level, guint threads, guint batch);
void kestrel_bench_cell_free (KestrelBenchCell *cell);
/* "fp32 full t2 b4" (and the engine first unless it is kestrel). */
char *kestrel_bench_cell_dup_label (const KestrelBenchCell *cell);
/* Faces agreeing as one number in [0, 1]: matched / (FP32's faces + extra
 * faces), so a missed face and an extra one both count against it; 1 when
 * neither side found any; NAN when not measured. */
double kestrel_bench_cell_get_faces_agreeing (const KestrelBenchCell *cell);
/* Recomputes the statistics from samples_ms. */
void kestrel_bench_cell_update_stats (KestrelBenchCell *cell);
void kestrel_bench_cell_add_note (KestrelBenchCell *cell, KestrelBenchNoteFlags flag,
                                  const char *format, ...) G_GNUC_PRINTF (3, 4);

/* Time per frame: the median over the batch. */
double kestrel_bench_cell_get_frame_ms (const KestrelBenchCell *cell);

/* The accuracy goal a configuration must meet to be recommended: every
 * face the FP32 reference finds on the photos found again, and no other
 * (faces agreeing 100%). Where faces were not measured, only FP32 cells
 * meet it. */
gboolean kestrel_bench_cell_meets_goal (const KestrelBenchCell *cell);
/* Frames per second the cell can give within a CPU budget of
 * `budget_percent` of one core (0: none): its own rate, held down to
 * budget / CPU time per frame. NAN when unknown. */
double kestrel_bench_cell_get_rate_within (const KestrelBenchCell *cell, double budget_percent);

/* One run: the machine, the software, the model and the cells. Plain
 * fields, owned by the result; a result loaded from a file has the same. */
typedef struct {
  int   format_version;         /* KESTREL_BENCH_FORMAT_VERSION when written */
  char *created;                /* ISO 8601, UTC */

  /* machine */
  char   *cpu_model;
  char   *cpu_features;         /* space-separated, as kk_cpu reports them */
  char   *isa;                  /* the best instruction set the simd levels use */
  guint   cores;
  guint64 memory_bytes;
  char   *kernel;               /* uname -srm */
  char   *governor;             /* NULL when the kernel exposes none */

  /* software */
  char *kestrel_version;
  char *git_commit;
  char *openblas_core;          /* NULL when OpenBLAS did not load */
  char *ort_version;            /* NULL unless a peer ran */

  /* model */
  char   *model_name;
  char   *model_sha256;
  guint64 multiply_adds;
  guint64 weight_bytes;

  /* how it was run */
  double time_per_cell_s;
  guint  rounds;
  double target_ci;
  guint  seed;
  guint  n_photos;              /* photos behind sqnr_db; 0 = none */
  double wall_s;                /* the whole run */
  char  *energy_note;           /* why there is no energy, or NULL */

  GPtrArray *cells;             /* KestrelBenchCell* */
  GPtrArray *notes;             /* char*: run-wide notes */
} KestrelBenchResult;

KestrelBenchResult *kestrel_bench_result_new (void);
void kestrel_bench_result_free (KestrelBenchResult *result);
/* The machine's reference loop over the whole run (before every visit of
 * every cell): its median, fastest and slowest time (ms). FALSE when the
 * result has none (a file from before format version 3). */
gboolean kestrel_bench_result_get_reference (const KestrelBenchResult *result, double *median_ms,
                                             double *low_ms, double *high_ms);

/* Called between cells: `done` of `total` cell visits, and an estimate of
 * the seconds left. On the thread that runs the suite. */
typedef void (*KestrelBenchProgress) (guint done, guint total, double seconds_left,
                                      const KestrelBenchCell *cell, gpointer user_data);

/* Peers: another engine measured beside Kestrel as one more cell (FP32,
 * its own threads), visited in the same shuffled rounds. `run` does n
 * inferences and appends their times (ms) to times_ms. */
typedef struct {
  const char *name;             /* "onnxruntime" */
  const char *version;
  guint threads;
  gboolean (*run) (gpointer peer, guint n, GArray *times_ms, GError **error);
  gpointer peer;
} KestrelBenchPeer;

/* Runs the suite on `model`; `model_bytes` (the .onnx file, may be NULL)
 * gives the result its content hash. Cancelling `cancellable` stops it within a
 * run or a plan build (well under a second on the bundled models) and
 * returns NULL with G_IO_ERROR_CANCELLED. Errors: an axis value that is
 * not valid (names it), a model whose inputs are not one float32 tensor. */
KestrelBenchResult *kestrel_bench_run (KestrelModel *model, const char *model_name, GBytes *model_bytes,
                                       const KestrelBenchOptions *options,
                                       const KestrelBenchPeer *peer,
                                       KestrelBenchProgress progress, gpointer user_data,
                                       GCancellable *cancellable, GError **error);

/* The cells on the speed/accuracy Pareto front (time per frame against
 * output SQNR; cells without an SQNR are left out), fastest first: those
 * that nothing faster matches in SQNR. Borrowed pointers. */
GPtrArray *kestrel_bench_pareto_front (const KestrelBenchResult *result);
/* "Best Under Budget": of Kestrel's cells that meet the accuracy goal, the
 * one with the highest kestrel_bench_cell_get_rate_within (fewer CPU ms
 * per frame breaks a tie); NULL when none does. */
const KestrelBenchCell *kestrel_bench_best_under_budget (const KestrelBenchResult *result, double budget_percent,
                                                         double *frames_per_s);

/* A fixed pseudo-random input in [-1, 1) (the range BlazeFace expects),
 * the same on every machine: for timing when no photo fits, and for peers
 * and probes that need an input of their own. */
void kestrel_bench_fill_noise (float *data, gsize n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KestrelBenchResult, kestrel_bench_result_free)

G_END_DECLS
