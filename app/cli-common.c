/* cli-common.c — what several kestrel-cli commands share. */
#include "config.h"

#include <time.h>

#include <glib-unix.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>

#include "kestrel-cli.h"
#include "kestrel-error.h"
#include "kestrel-input-shape.h"

int
kestrel_cli_fail (const char *command, const char *message, int status)
{
  fprintf (stderr, "kestrel-cli %s: %s\n", command, message);
  return status;
}

gboolean
kestrel_cli_parse_level (const char *name, kk_level *level, GError **error)
{
  if (name == NULL)
    {
      *level = KK_LEVEL_FULL;
      return TRUE;
    }
  if (kk_level_from_name (name, level))
    return TRUE;
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
               "unknown level '%s' (expected scalar, simd, parallel or full)", name);
  return FALSE;
}

gboolean
kestrel_cli_parse_precision (const char *name, KestrelPrecision *precision, GError **error)
{
  if (name == NULL)
    {
      *precision = KESTREL_PRECISION_FP32;
      return TRUE;
    }
  if (kestrel_precision_from_name (name, precision))
    return TRUE;
  g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_INVALID_ARGUMENT,
               "--precision: unknown precision '%s' (expected fp32, fp16, int8 or int4)", name);
  return FALSE;
}

gboolean
kestrel_cli_model_input (KestrelModel *model, guint *input, kk_model_input_params *params, GError **error)
{
  return kestrel_calibrate_images_model_input (model, input, params, error);
}

gboolean
kestrel_cli_set_precision (KestrelPlanOptions *options, KestrelPrecision precision, KestrelModel *model,
                           KestrelQuantTable **table, GError **error)
{
  *table = NULL;
  options->precision = precision;
  if (!kestrel_precision_is_supported (precision))
    {
      g_set_error (error, KESTREL_ERROR, KESTREL_ERROR_UNSUPPORTED,
                   "--precision %s: this version plans only supported precisions (kestrel-cli info)",
                   kestrel_precision_name (precision));
      return FALSE;
    }
  if (!kestrel_precision_is_integer (precision))
    return TRUE;
  *table = kestrel_calibrate_images_for_model (model, precision, NULL, error);
  if (*table == NULL)
    return FALSE;
  options->quant_table = *table;
  return TRUE;
}

gboolean
kestrel_cli_check_input_shapes (char **specs, GError **error)
{
  for (guint i = 0; specs != NULL && specs[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      gint64 shape[KESTREL_TENSOR_MAX_DIMS];
      guint n_dims;

      if (!kestrel_input_shape_parse (specs[i], &name, &n_dims, shape, error))
        return FALSE;
    }
  return TRUE;
}

void
kestrel_cli_json_add_double (JsonBuilder *b, const char *name, double value)
{
  json_builder_set_member_name (b, name);
  if (isfinite (value))
    json_builder_add_double_value (b, value);
  else
    json_builder_add_null_value (b);
}

typedef struct {
  GThreadFunc func;
  gpointer data;
  GMainLoop *loop;
} ThreadRun;

static gboolean
quit_loop (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gpointer
thread_run (gpointer user_data)
{
  ThreadRun *run = user_data;
  run->func (run->data);
  g_idle_add (quit_loop, run->loop);
  return NULL;
}

static gboolean
cancel_on_signal (gpointer cancellable)
{
  g_cancellable_cancel (cancellable);
  return G_SOURCE_CONTINUE;
}

void
kestrel_cli_run_cancellable (const char *name, GThreadFunc func, gpointer data, GCancellable *cancellable)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  ThreadRun run = { func, data, loop };
  guint sigint = g_unix_signal_add (SIGINT, cancel_on_signal, cancellable);
  guint sigterm = g_unix_signal_add (SIGTERM, cancel_on_signal, cancellable);
  GThread *thread = g_thread_new (name, thread_run, &run);

  g_main_loop_run (loop);
  g_thread_join (thread);
  g_source_remove (sigint);
  g_source_remove (sigterm);
}

guint64
kestrel_cli_process_cpu_ns (void)
{
  struct timespec ts;

  if (clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts) != 0)
    return 0;
  return (guint64) ts.tv_sec * G_GUINT64_CONSTANT (1000000000) + (guint64) ts.tv_nsec;
}
