/* kestrel-cli.h — the sub-commands of kestrel-cli, one file each. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "kestrel-kernels.h"
#include "kestrel-builtin-models.h"
#include "kestrel-calibrate-images.h"
#include "kestrel-plan.h"
#include "kestrel-thread-pool.h"

G_BEGIN_DECLS

/* Each command gets argv with argv[0] = its own name, and returns the
 * process exit status. */
int kestrel_cli_info (int argc, char **argv);
int kestrel_cli_bench_kernels (int argc, char **argv);
int kestrel_cli_detect (int argc, char **argv);
int kestrel_cli_run_model (int argc, char **argv);
int kestrel_cli_inspect (int argc, char **argv);
int kestrel_cli_bench (int argc, char **argv);
int kestrel_cli_run (int argc, char **argv);
int kestrel_cli_benchmark (int argc, char **argv);
int kestrel_cli_compare (int argc, char **argv);
int kestrel_cli_calibrate (int argc, char **argv);
int kestrel_cli_quantize (int argc, char **argv);

/* calibrate's work (cli-calibrate.c), which quantize --method shares: the
 * images of `frames` fed to `model` as the engine feeds it, ranges by
 * `method`, then the sensitivity search at `goal_db` (NAN: none), on a
 * thread SIGINT/SIGTERM cancel, with a progress line on a terminal. NULL
 * on error with *status 2 (the folder cannot be read) or 1; *status 0 on success. */
KestrelQuantTable *kestrel_cli_calibrate_frames (const char *command, KestrelModel *model, const char *frames,
                                                 const KestrelCalibrationMethod *method, double goal_db,
                                                 int *status, GError **error);

/* bench --profile: runs `plan` `runs` times step by step and adds a
 * "profile" member to `b` (time by operator, the slowest steps); the
 * second prints that member. */
void kestrel_cli_bench_profile       (KestrelPlan *plan, guint runs, JsonBuilder *b);
void kestrel_cli_bench_profile_print (JsonObject *profile);

/* The values a numeric option (G_OPTION_ARG_INT or G_OPTION_ARG_DOUBLE)
 * accepts: from `min` (or above it, with `min_exclusive`) to `max`;
 * `note` says what a special value means ("0: all cores"). */
typedef struct {
  const char *name;       /* the entry's long name */
  double      min;
  double      max;
  gboolean    min_exclusive;
  const char *note;
} KestrelCliRange;

/* --threads where 0 means every core. */
#define KESTREL_CLI_THREADS_RANGE { "threads", 0, KESTREL_THREAD_POOL_MAX_THREADS, FALSE, "0: all cores" }

/* "an integer from 0 to 256 (0: all cores)". */
char *kestrel_cli_range_describe (const KestrelCliRange *range, gboolean integer);

/* Parses a command's options with `context` and `entries`, the way every
 * command does: each numeric entry must have a range in `ranges` (ended by
 * a NULL name), checked as it is parsed; then between `min_args` and
 * `max_args` positional arguments (`args_name` says what they are) must be
 * left. On any failure prints "kestrel-cli COMMAND: MESSAGE", naming the
 * option and what it accepts, and returns FALSE: the command then exits
 * with status 2. */
gboolean kestrel_cli_parse_options (const char            *command,
                                    GOptionContext        *context,
                                    const GOptionEntry    *entries,
                                    const KestrelCliRange *ranges,
                                    const char            *args_name,
                                    guint                  min_args,
                                    guint                  max_args,
                                    int                   *argc,
                                    char                ***argv);

/* A file an option names for writing: not a folder, in a folder that
 * exists. NULL passes. */
gboolean kestrel_cli_check_output_file (const char *option, const char *path, GError **error);

/* Runs func (data) on a thread named `name` while the main thread waits in
 * a main loop, where SIGINT and SIGTERM cancel `cancellable`: long work
 * that a user can stop. Returns when func has. */
void kestrel_cli_run_cancellable (const char *name, GThreadFunc func, gpointer data,
                                  GCancellable *cancellable);

/* Prints "kestrel-cli COMMAND: MESSAGE" to stderr and returns `status`. */
int kestrel_cli_fail (const char *command, const char *message, int status);
/* NULL means the default level, full. */
gboolean kestrel_cli_parse_level (const char *name, kk_level *level, GError **error);
/* --precision: NULL is fp32; an unknown name is an error (exit status 2). */
gboolean kestrel_cli_parse_precision (const char *name, KestrelPrecision *precision, GError **error);
/* The input frames go to and how they are prepared for it, as the engine
 * does: the model's task decoder's (the generic one, pixels in 0..1, when
 * no plugin decodes it). An error when the model takes no picture. */
gboolean kestrel_cli_model_input (KestrelModel *model, guint *input, kk_model_input_params *params,
                                  GError **error);
/* Plan options at `precision`: for INT8 also the model's calibration
 * table, measured on the bundled photos (kestrel-calibrate-images.h: the
 * user cache's when there, the layers the sensitivity search keeps FP32),
 * prepared as the engine prepares frames for the model's task decoder (the
 * generic one when no plugin decodes it), or the table a QDQ file carries
 * (kestrel_model_get_quant_table); *table keeps it for the caller
 * to unref after planning. A precision this build cannot plan fails here,
 * naming it. */
gboolean kestrel_cli_set_precision (KestrelPlanOptions *options, KestrelPrecision precision, KestrelModel *model,
                                    KestrelQuantTable **table, GError **error);

/* The --input-shape option of the commands that plan a model. */
#define KESTREL_CLI_INPUT_SHAPE_HELP \
  "Plan input NAME at this shape (sets its free dimensions, e.g. images=1x3x320x320); repeatable"
/* Checks the syntax of --input-shape values: a bad one is a usage error
 * (exit status 2); whether the model has such an input is checked when it
 * is loaded. */
gboolean kestrel_cli_check_input_shapes (char **specs, GError **error);
/* CPU time this process has used so far, all its threads, in ns. */
guint64 kestrel_cli_process_cpu_ns (void);

/* inspect --precision (cli-inspect-precision.c): the "precision" member
 * of inspect's JSON (the plan at `precision` step by step: layer, op,
 * precision, SQNR and MSE against FP32, weight bytes; for INT8 the
 * calibration and the layers kept FP32), and its text. */
gboolean kestrel_cli_inspect_add_precision (JsonBuilder *b, KestrelModel *model, KestrelPrecision precision,
                                            GError **error);
void kestrel_cli_inspect_print_precision (JsonObject *precision);

/* A double member, null when it is not finite (JSON has no NaN). */
void kestrel_cli_json_add_double (JsonBuilder *b, const char *name, double value);

/* Prints a JSON node on one line, or pretty when `pretty`, to stdout. */
void kestrel_cli_print_json (JsonNode *node, gboolean pretty);

G_END_DECLS
