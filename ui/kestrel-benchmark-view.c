/* kestrel-benchmark-view.c — see kestrel-benchmark-view.h.
 *
 * Built in code rather than a .ui file: the table's rows and the saved-run
 * lists are made from results at run time anyway. The charts are
 * kestrel-bench-chart.c, the table kestrel-bench-table.c; this file runs
 * the suite, keeps the runs shown and compared, applies a cell to the live
 * settings and exports.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "kestrel-bench-chart.h"
#include "kestrel-bench-compare.h"
#include "kestrel-bench-result.h"
#include "kestrel-bench-table.h"
#include "kestrel-benchmark-view.h"
#include "kestrel-builtin-models.h"
#include "kestrel-samples.h"
#include "kestrel-ui.h"

/* The charts, in the order shown, with the titles they have on screen and
 * in exports, and the names the export action uses. */
#define N_CHARTS 3
static const struct {
  KestrelBenchPlotKind kind;
  const char *title;
  const char *id;
} chart_info[N_CHARTS] = {
  { KESTREL_BENCH_PLOT_LATENCY, N_("Latency per Configuration"), "latency" },
  { KESTREL_BENCH_PLOT_PARETO, N_("Speed and Accuracy"), "pareto" },
  { KESTREL_BENCH_PLOT_SCALING, N_("Thread Scaling"), "scaling" },
};

struct _KestrelBenchmarkView
{
  GtkBox parent_instance;

  char *model_spec;
  KestrelBenchOptions options;
  gboolean have_options;

  GtkWidget *run_button, *cancel_button;
  GtkWidget *progress, *status;
  GtkWidget *best_label, *best_goal, *best_use;
  GtkWidget *charts[N_CHARTS];
  GtkWidget *table;
  GSettings *settings;         /* the live view's; NULL: nothing to apply to */
  const KestrelBenchCell *best; /* of result */
  GtkWidget *saved_list, *compare_list;
  GtkWidget *comparison;

  GCancellable *cancellable;   /* while running */
  KestrelBenchResult *result;  /* shown */
  char *result_name;
  KestrelBenchResult *other;   /* compared with */
  char *other_name;
  GPtrArray *saved;            /* paths, newest first */
  gboolean updating_lists;
};

enum { PROP_0, PROP_RUNNING, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (KestrelBenchmarkView, kestrel_benchmark_view, GTK_TYPE_BOX)

/* ---- the best configuration under the budget ------------------------------ */

/* The live CPU budget in percent of one core; 0 when there is none (no
 * settings, or throttling off). */
static double
budget_percent (KestrelBenchmarkView *self)
{
  g_autofree char *mode = NULL;

  if (self->settings == NULL)
    return 0;
  mode = g_settings_get_string (self->settings, "throttle-mode");
  return g_str_equal (mode, "budget") ? g_settings_get_int (self->settings, "cpu-budget") : 0;
}

#define GOAL_TEXT N_("every face the FP32 reference finds on the sample photos is found again, overlapping it by " \
                     "at least 90 % with a score within 0.05, and no other face is found")

static void
update_best (KestrelBenchmarkView *self)
{
  double budget = budget_percent (self), rate = NAN;
  g_autofree char *text = NULL;
  g_autofree char *goal = NULL;
  g_autofree char *within = budget > 0 ? g_strdup_printf (_("within the CPU budget of %.0f %% of one core"), budget)
                                       : g_strdup (_("with no CPU budget"));

  self->best = self->result != NULL ? kestrel_bench_best_under_budget (self->result, budget, &rate) : NULL;
  gtk_widget_set_visible (gtk_widget_get_parent (self->best_label), self->result != NULL);
  if (self->result == NULL)
    return;
  if (self->best != NULL)
    {
      g_autofree char *label = kestrel_bench_cell_dup_label (self->best);
      g_autofree char *faces = kestrel_bench_faces_text (self->best);
      text = g_strdup_printf (_("Best Under Budget: %s, %.1f frames/s %s, faces agreeing %s."), label, rate, within,
                              faces);
      goal = g_strdup_printf (_("The fastest configuration of this run that meets the accuracy goal: %s."),
                              _(GOAL_TEXT));
    }
  else
    {
      text = g_strdup_printf (_("Best Under Budget: none. No configuration of this run meets the accuracy goal %s."),
                              within);
      goal = g_strdup_printf (_("The accuracy goal: %s."), _(GOAL_TEXT));
    }
  gtk_label_set_label (GTK_LABEL (self->best_goal), goal);
  gtk_label_set_label (GTK_LABEL (self->best_label), text);
  gtk_widget_set_visible (self->best_use, self->best != NULL && self->settings != NULL);
}

static void
budget_changed (GSettings *settings, const char *key, gpointer user_data)
{
  update_best (user_data);
}

/* ---- shown and compared ---------------------------------------------------- */

static char *
describe (const KestrelBenchResult *r)
{
  return g_strdup_printf (_("%s, %s"), r->model_name, r->created);
}

static void
set_charts (KestrelBenchmarkView *self, const KestrelBenchResult *a, const char *a_name,
            const KestrelBenchResult *b, const char *b_name)
{
  for (guint i = 0; i < N_CHARTS; i++)
    if (self->charts[i] != NULL)
      kestrel_bench_chart_set_results (KESTREL_BENCH_CHART (self->charts[i]), a, a_name, b, b_name);
}

static void
refresh (KestrelBenchmarkView *self)
{
  set_charts (self, self->result, self->result_name, self->other, self->other_name);
  kestrel_bench_table_set_result (KESTREL_BENCH_TABLE (self->table), self->result);
  update_best (self);
  if (self->result != NULL && self->other != NULL)
    {
      g_autoptr(GPtrArray) rows = kestrel_bench_compare (self->other, self->result);
      g_autofree char *text = kestrel_bench_comparison_format (self->other, self->result, rows, "text");
      gtk_label_set_label (GTK_LABEL (self->comparison), text);
      gtk_widget_set_visible (self->comparison, TRUE);
    }
  else
    gtk_widget_set_visible (self->comparison, FALSE);
}

static void
set_result (KestrelBenchmarkView *self, KestrelBenchResult *result)
{
  /* The charts and the table borrow them: let go there first. */
  set_charts (self, NULL, NULL, NULL, NULL);
  kestrel_bench_table_set_result (KESTREL_BENCH_TABLE (self->table), NULL);
  self->best = NULL;
  g_clear_pointer (&self->result, kestrel_bench_result_free);
  g_clear_pointer (&self->result_name, g_free);
  g_clear_pointer (&self->other, kestrel_bench_result_free);
  g_clear_pointer (&self->other_name, g_free);
  self->result = result;
  if (result != NULL)
    self->result_name = describe (result);
  refresh (self);
}

static GtkStringList *
saved_names (KestrelBenchmarkView *self, const char *first)
{
  GtkStringList *names = gtk_string_list_new (NULL);

  if (first != NULL)
    gtk_string_list_append (names, first);
  for (guint i = 0; i < self->saved->len; i++)
    {
      g_autofree char *base = g_path_get_basename (self->saved->pdata[i]);
      gtk_string_list_append (names, base);
    }
  return names;
}

static void
reload_saved (KestrelBenchmarkView *self)
{
  g_autoptr(GtkStringList) shown = NULL;
  g_autoptr(GtkStringList) compared = NULL;

  g_clear_pointer (&self->saved, g_ptr_array_unref);
  self->saved = kestrel_bench_list_saved ();
  shown = saved_names (self, NULL);
  compared = saved_names (self, _("Nothing"));
  self->updating_lists = TRUE;
  gtk_drop_down_set_model (GTK_DROP_DOWN (self->saved_list), G_LIST_MODEL (shown));
  gtk_drop_down_set_model (GTK_DROP_DOWN (self->compare_list), G_LIST_MODEL (compared));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->saved_list), self->saved->len ? 0 : GTK_INVALID_LIST_POSITION);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->compare_list), 0);
  self->updating_lists = FALSE;
  gtk_widget_set_sensitive (self->saved_list, self->saved->len > 0);
  gtk_widget_set_sensitive (self->compare_list, self->saved->len > 0);
}

gboolean
kestrel_benchmark_view_show_file (KestrelBenchmarkView *self, const char *path, GError **error)
{
  KestrelBenchResult *r = kestrel_bench_result_load (path, error);

  if (r == NULL)
    return FALSE;
  set_result (self, r);
  return TRUE;
}

gboolean
kestrel_benchmark_view_compare_file (KestrelBenchmarkView *self, const char *path, GError **error)
{
  KestrelBenchResult *r = NULL;

  if (path != NULL && (r = kestrel_bench_result_load (path, error)) == NULL)
    return FALSE;
  set_charts (self, NULL, NULL, NULL, NULL);
  g_clear_pointer (&self->other, kestrel_bench_result_free);
  g_clear_pointer (&self->other_name, g_free);
  self->other = r;
  if (r != NULL)
    self->other_name = describe (r);
  refresh (self);
  return TRUE;
}

static void
report_error (KestrelBenchmarkView *self, const char *message)
{
  gtk_label_set_label (GTK_LABEL (self->status), message);
  gtk_widget_set_visible (self->status, TRUE);
}

static void
saved_selected (GObject *list, GParamSpec *pspec, gpointer user_data)
{
  KestrelBenchmarkView *self = user_data;
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (list));
  g_autoptr(GError) error = NULL;

  if (self->updating_lists || i == GTK_INVALID_LIST_POSITION || i >= self->saved->len)
    return;
  if (!kestrel_benchmark_view_show_file (self, self->saved->pdata[i], &error))
    report_error (self, error->message);
  self->updating_lists = TRUE;
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->compare_list), 0);
  self->updating_lists = FALSE;
}

static void
compare_selected (GObject *list, GParamSpec *pspec, gpointer user_data)
{
  KestrelBenchmarkView *self = user_data;
  guint i = gtk_drop_down_get_selected (GTK_DROP_DOWN (list));
  g_autoptr(GError) error = NULL;

  if (self->updating_lists || i == GTK_INVALID_LIST_POSITION)
    return;
  if (!kestrel_benchmark_view_compare_file (self, i == 0 || i > self->saved->len ? NULL : self->saved->pdata[i - 1],
                                            &error))
    report_error (self, error->message);
}

/* ---- running --------------------------------------------------------------- */

typedef struct {
  GWeakRef view;
  guint done, total;
  double seconds_left;
} Progress;

static gboolean
show_progress (gpointer data)
{
  Progress *p = data;
  g_autoptr(KestrelBenchmarkView) self = g_weak_ref_get (&p->view);

  if (self != NULL && self->cancellable != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("Cell %u of %u, about %.0f s left"), p->done, p->total,
                                               ceil (p->seconds_left));
      gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), (double) p->done / MAX (p->total, 1));
      gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), text);
    }
  g_weak_ref_clear (&p->view);
  g_free (p);
  return G_SOURCE_REMOVE;
}

typedef struct {
  char *model_spec;
  KestrelBenchOptions options;
  char *samples_dir;
  GWeakRef view;
} Job;

static void
job_free (Job *job)
{
  g_free (job->model_spec);
  g_free (job->samples_dir);
  g_weak_ref_clear (&job->view);
  g_free (job);
}

static void
on_progress (guint done, guint total, double seconds_left, const KestrelBenchCell *cell, gpointer user_data)
{
  Job *job = user_data;
  Progress *p = g_new0 (Progress, 1);
  g_autoptr(GObject) view = g_weak_ref_get (&job->view);

  g_weak_ref_init (&p->view, view);
  p->done = done;
  p->total = total;
  p->seconds_left = seconds_left;
  g_idle_add (show_progress, p);
}

static void
run_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Job *job = task_data;
  g_autofree char *origin = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = kestrel_model_spec_dup_bytes (job->model_spec, &origin, &error);
  g_autoptr(KestrelModel) model = NULL;
  KestrelBenchResult *r;

  if (bytes != NULL)
    model = kestrel_model_new_from_bytes (bytes, origin, &error);
  if (model == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  job->options.samples_dir = job->samples_dir;
  r = kestrel_bench_run (model, job->model_spec, bytes, &job->options, NULL, on_progress, job, cancellable, &error);
  if (r == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, r, (GDestroyNotify) kestrel_bench_result_free);
}

static void
set_running (KestrelBenchmarkView *self, gboolean running)
{
  gtk_widget_set_visible (self->run_button, !running);
  gtk_widget_set_visible (self->cancel_button, running);
  gtk_widget_set_visible (self->progress, running);
  gtk_widget_set_sensitive (self->saved_list, !running && self->saved->len > 0);
  gtk_widget_set_sensitive (self->compare_list, !running && self->saved->len > 0);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
}

static void
run_done (GObject *source, GAsyncResult *res, gpointer user_data)
{
  KestrelBenchmarkView *self = KESTREL_BENCHMARK_VIEW (source);
  g_autoptr(GError) error = NULL;
  KestrelBenchResult *r = g_task_propagate_pointer (G_TASK (res), &error);

  g_clear_object (&self->cancellable);
  if (r == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        report_error (self, _("Cancelled: nothing was saved."));
      else
        report_error (self, error->message);
    }
  else
    {
      g_autofree char *path = kestrel_bench_result_save_default (r, &error);
      g_autofree char *text = NULL;

      if (path == NULL)
        text = g_strdup_printf (_("Finished in %.0f s, but it could not be saved: %s"), r->wall_s, error->message);
      else
        text = g_strdup_printf (_("Finished in %.0f s and saved as %s."), r->wall_s, path);
      report_error (self, text);
      reload_saved (self);
      set_result (self, r);
    }
  set_running (self, FALSE);
}

void
kestrel_benchmark_view_run (KestrelBenchmarkView *self)
{
  g_autoptr(GTask) task = NULL;
  Job *job;

  g_return_if_fail (KESTREL_IS_BENCHMARK_VIEW (self));
  if (self->cancellable != NULL)
    return;
  job = g_new0 (Job, 1);
  job->model_spec = g_strdup (self->model_spec);
  if (self->have_options)
    job->options = self->options;
  else
    kestrel_bench_options_init (&job->options);
  job->samples_dir = g_strdup (kestrel_samples_get_dir ());
  g_weak_ref_init (&job->view, self);
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, run_done, NULL);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->progress), 0);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->progress), _("Building the plans…"));
  gtk_widget_set_visible (self->status, FALSE);
  set_running (self, TRUE);
  g_task_run_in_thread (task, run_thread);
}

void
kestrel_benchmark_view_cancel (KestrelBenchmarkView *self)
{
  g_return_if_fail (KESTREL_IS_BENCHMARK_VIEW (self));
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
}

gboolean
kestrel_benchmark_view_get_running (KestrelBenchmarkView *self)
{
  g_return_val_if_fail (KESTREL_IS_BENCHMARK_VIEW (self), FALSE);
  return self->cancellable != NULL;
}

const KestrelBenchResult *
kestrel_benchmark_view_get_result (KestrelBenchmarkView *self)
{
  g_return_val_if_fail (KESTREL_IS_BENCHMARK_VIEW (self), NULL);
  return self->result;
}

void
kestrel_benchmark_view_set_model (KestrelBenchmarkView *self, const char *model_spec)
{
  g_return_if_fail (KESTREL_IS_BENCHMARK_VIEW (self));
  g_free (self->model_spec);
  self->model_spec = g_strdup (model_spec != NULL ? model_spec : "front");
}

void
kestrel_benchmark_view_set_options (KestrelBenchmarkView *self, const KestrelBenchOptions *options)
{
  g_return_if_fail (KESTREL_IS_BENCHMARK_VIEW (self));
  self->options = *options;
  self->options.samples_dir = NULL;
  self->have_options = TRUE;
}

/* ---- using a cell, exporting ---------------------------------------------- */

/* The value fits the settings key's range (batch is 1 to 16 there, the
 * suite goes to 64). */
static gboolean
in_range (GSettings *settings, const char *key, GVariant *value)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GSettingsSchemaKey) schema_key = NULL;
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  g_object_get (settings, "settings-schema", &schema, NULL);
  schema_key = g_settings_schema_get_key (schema, key);
  return g_settings_schema_key_range_check (schema_key, owned);
}

gboolean
kestrel_benchmark_view_use_cell (KestrelBenchmarkView *self, const KestrelBenchCell *cell, GError **error)
{
  g_autofree char *label = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail (KESTREL_IS_BENCHMARK_VIEW (self) && cell != NULL, FALSE);
  label = kestrel_bench_cell_dup_label (cell);
  if (self->settings == NULL || g_strcmp0 (cell->engine, "kestrel") != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   self->settings == NULL ? _("There are no live settings to apply %s to")
                                          : _("%s is another engine’s: only Kestrel’s configurations can be used"),
                   label);
      return FALSE;
    }
  if (!in_range (self->settings, "threads", g_variant_new_int32 ((gint32) cell->threads))
      || !in_range (self->settings, "batch", g_variant_new_int32 ((gint32) cell->batch)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("%s cannot be used live: its threads or batch size is beyond what the live view takes"), label);
      return FALSE;
    }
  /* The same keys the Live controls write: the controls apply them to the
   * engine (changes in one main-loop turn are one reconfiguration). */
  g_settings_set_string (self->settings, "precision", kestrel_precision_name (cell->precision));
  g_settings_set_string (self->settings, "level", kk_level_name (cell->level));
  g_settings_set_int (self->settings, "threads", (int) cell->threads);
  g_settings_set_int (self->settings, "batch", (int) cell->batch);
  text = g_strdup_printf (_("The live view now runs %s."), label);
  gtk_label_set_label (GTK_LABEL (self->status), text);
  gtk_widget_set_visible (self->status, TRUE);
  return TRUE;
}

static void
use_cell (KestrelBenchmarkView *self, const KestrelBenchCell *cell)
{
  g_autoptr(GError) error = NULL;

  if (!kestrel_benchmark_view_use_cell (self, cell, &error))
    report_error (self, error->message);
}

static void
use_best_clicked (GtkButton *button, KestrelBenchmarkView *self)
{
  if (self->best != NULL)
    use_cell (self, self->best);
}

void
kestrel_benchmark_view_set_settings (KestrelBenchmarkView *self, GSettings *settings)
{
  g_return_if_fail (KESTREL_IS_BENCHMARK_VIEW (self));
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_set_object (&self->settings, settings);
  if (settings != NULL)
    {
      g_signal_connect (settings, "changed::cpu-budget", G_CALLBACK (budget_changed), self);
      g_signal_connect (settings, "changed::throttle-mode", G_CALLBACK (budget_changed), self);
    }
  kestrel_bench_table_set_can_use (KESTREL_BENCH_TABLE (self->table), settings != NULL);
  update_best (self);
}

gboolean
kestrel_benchmark_view_export_csv (KestrelBenchmarkView *self, const char *path, GError **error)
{
  g_autofree char *csv = NULL;

  g_return_val_if_fail (KESTREL_IS_BENCHMARK_VIEW (self), FALSE);
  if (self->result == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("There is no benchmark run to export"));
      return FALSE;
    }
  csv = kestrel_bench_result_to_csv (self->result);
  return g_file_set_contents (path, csv, -1, error);
}

gboolean
kestrel_benchmark_view_export_chart (KestrelBenchmarkView *self, KestrelBenchPlotKind kind, gboolean is_svg,
                                     const char *path, GError **error)
{
  g_return_val_if_fail (KESTREL_IS_BENCHMARK_VIEW (self), FALSE);
  for (guint i = 0; i < N_CHARTS; i++)
    if (chart_info[i].kind == kind)
      return kestrel_bench_chart_export (KESTREL_BENCH_CHART (self->charts[i]), _(chart_info[i].title), is_svg, path,
                                         error);
  g_return_val_if_reached (FALSE);
}

/* What the export action's target asks for: "csv", or a chart's id and
 * "-png" or "-svg". */
static gboolean
export_to (KestrelBenchmarkView *self, const char *target, const char *path, GError **error)
{
  if (g_str_equal (target, "csv"))
    return kestrel_benchmark_view_export_csv (self, path, error);
  for (guint i = 0; i < N_CHARTS; i++)
    if (g_str_has_prefix (target, chart_info[i].id))
      return kestrel_benchmark_view_export_chart (self, chart_info[i].kind, g_str_has_suffix (target, "-svg"), path,
                                                  error);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "nothing to export called %s", target);
  return FALSE;
}

static void
weak_ref_free (GWeakRef *ref)
{
  g_weak_ref_clear (ref);
  g_free (ref);
}

static void
export_response (GtkNativeDialog *chooser, int response, gpointer user_data)
{
  g_autoptr(KestrelBenchmarkView) self = g_weak_ref_get (user_data);
  const char *target = g_object_get_data (G_OBJECT (chooser), "target");
  g_autoptr(GFile) file = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (self != NULL && response == GTK_RESPONSE_ACCEPT && (file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser)))
      && (path = g_file_get_path (file)) != NULL)
    {
      if (export_to (self, target, path, &error))
        {
          g_autofree char *text = g_strdup_printf (_("Exported to %s."), path);
          report_error (self, text);
        }
      else
        report_error (self, error->message);
    }
  g_object_unref (chooser);
}

static void
export_activated (GtkWidget *widget, const char *action_name, GVariant *parameter)
{
  KestrelBenchmarkView *self = KESTREL_BENCHMARK_VIEW (widget);
  const char *target = g_variant_get_string (parameter, NULL);
  /* "pareto-svg" -> kestrel-benchmark-pareto.svg; "csv" -> kestrel-benchmark.csv */
  g_autofree char *name = g_str_equal (target, "csv") ? g_strdup ("kestrel-benchmark.csv")
                                                      : g_strdup_printf ("kestrel-benchmark-%s", target);
  GtkNativeDialog *chooser;
  GWeakRef *ref = g_new0 (GWeakRef, 1);

  chooser = GTK_NATIVE_DIALOG (gtk_file_chooser_native_new (_("Export"),
                                                            GTK_WINDOW (gtk_widget_get_root (widget)),
                                                            GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL));
  *strrchr (name, '-') = g_str_equal (target, "csv") ? '-' : '.';
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
  g_object_set_data_full (G_OBJECT (chooser), "target", g_strdup (target), g_free);
  g_weak_ref_init (ref, self);
  g_object_set_data_full (G_OBJECT (chooser), "view", ref, (GDestroyNotify) weak_ref_free);
  g_signal_connect (chooser, "response", G_CALLBACK (export_response), ref);
  gtk_native_dialog_set_modal (chooser, TRUE);
  gtk_native_dialog_show (chooser);
}

/* ---- the widget ------------------------------------------------------------ */

/* The saved runs' names are long (time and model): ellipsized, so a
 * narrow window is not held wide (the open list is as wide as they are). */
static void
setup_item (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_list_item_set_child (item, label);
}

static void
bind_item (GtkSignalListItemFactory *factory, GtkListItem *item, gpointer user_data)
{
  GtkStringObject *string = gtk_list_item_get_item (item);

  gtk_label_set_label (GTK_LABEL (gtk_list_item_get_child (item)), gtk_string_object_get_string (string));
}

static GtkWidget *
saved_drop_down (void)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();
  GtkWidget *drop_down = gtk_drop_down_new (NULL, NULL);

  g_signal_connect (factory, "setup", G_CALLBACK (setup_item), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_item), NULL);
  gtk_drop_down_set_factory (GTK_DROP_DOWN (drop_down), factory);
  return drop_down;
}

/* A section's title, with its export button at the end when it has one. */
static GtkWidget *
heading (const char *text, GtkWidget *button)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (GTK_BOX (box), label);
  if (button != NULL)
    gtk_box_append (GTK_BOX (box), button);
  return box;
}

/* A chart's Export menu: the same drawing as a PNG or an SVG file. */
static GtkWidget *
export_menu (const char *id)
{
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autofree char *png = g_strdup_printf ("bench.export::%s-png", id);
  g_autofree char *svg = g_strdup_printf ("bench.export::%s-svg", id);
  GtkWidget *button = gtk_menu_button_new ();

  g_menu_append (menu, _("As _PNG Image…"), png);
  g_menu_append (menu, _("As _SVG Drawing…"), svg);
  gtk_menu_button_set_label (GTK_MENU_BUTTON (button), _("Export"));
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (button), G_MENU_MODEL (menu));
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _("Save this chart as a picture"));
  return button;
}

static void
kestrel_benchmark_view_init (KestrelBenchmarkView *self)
{
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *intro = gtk_label_new (_("Runs the model at every precision, level, thread count and batch size "
                                      "in shuffled rounds, with accuracy on the sample photos beside the "
                                      "speed. The live view pauses meanwhile."));
  GtkWidget *runs = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *scroller, *best, *csv;

  kestrel_ui_init ();
  self->model_spec = g_strdup ("front");
  self->saved = g_ptr_array_new ();
  gtk_orientable_set_orientation (GTK_ORIENTABLE (self), GTK_ORIENTATION_VERTICAL);
  gtk_box_set_spacing (GTK_BOX (self), 12);
  gtk_widget_set_margin_top (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_start (GTK_WIDGET (self), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self), 12);

  self->run_button = gtk_button_new_with_mnemonic (_("_Run Benchmark"));
  gtk_widget_add_css_class (self->run_button, "suggested-action");
  g_signal_connect_swapped (self->run_button, "clicked", G_CALLBACK (kestrel_benchmark_view_run), self);
  self->cancel_button = gtk_button_new_with_mnemonic (_("_Cancel"));
  gtk_widget_set_visible (self->cancel_button, FALSE);
  g_signal_connect_swapped (self->cancel_button, "clicked", G_CALLBACK (kestrel_benchmark_view_cancel), self);
  self->progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->progress), TRUE);
  gtk_widget_set_hexpand (self->progress, TRUE);
  gtk_widget_set_valign (self->progress, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (self->progress, FALSE);
  gtk_box_append (GTK_BOX (top), self->run_button);
  gtk_box_append (GTK_BOX (top), self->progress);
  gtk_box_append (GTK_BOX (top), self->cancel_button);

  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_xalign (GTK_LABEL (intro), 0);
  gtk_widget_add_css_class (intro, "dim-label");
  self->status = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->status), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->status), 0);
  gtk_label_set_selectable (GTK_LABEL (self->status), TRUE);
  gtk_widget_set_visible (self->status, FALSE);

  self->saved_list = saved_drop_down ();
  self->compare_list = saved_drop_down ();
  gtk_widget_set_hexpand (self->saved_list, TRUE);
  gtk_widget_set_hexpand (self->compare_list, TRUE);
  gtk_widget_set_tooltip_text (self->saved_list, _("A saved run to show"));
  gtk_widget_set_tooltip_text (self->compare_list, _("A saved run to compare the one shown with"));
  g_signal_connect (self->saved_list, "notify::selected", G_CALLBACK (saved_selected), self);
  g_signal_connect (self->compare_list, "notify::selected", G_CALLBACK (compare_selected), self);
  gtk_box_append (GTK_BOX (runs), self->saved_list);
  gtk_box_append (GTK_BOX (runs), gtk_label_new (_("against")));
  gtk_box_append (GTK_BOX (runs), self->compare_list);

  /* Best Under Budget: a sentence and a button to use it. */
  /* Stacked rather than side by side, so a narrow window keeps the
   * sentence readable. */
  best = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_add_css_class (best, "best-under-budget");
  self->best_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->best_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->best_label), 0);
  gtk_widget_add_css_class (self->best_label, "heading");
  self->best_goal = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->best_goal), TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->best_goal), 0);
  gtk_widget_add_css_class (self->best_goal, "caption");
  gtk_widget_add_css_class (self->best_goal, "dim-label");
  self->best_use = gtk_button_new_with_mnemonic (_("_Use This Configuration"));
  gtk_widget_set_halign (self->best_use, GTK_ALIGN_START);
  g_signal_connect (self->best_use, "clicked", G_CALLBACK (use_best_clicked), self);
  gtk_box_append (GTK_BOX (best), self->best_label);
  gtk_box_append (GTK_BOX (best), self->best_goal);
  gtk_box_append (GTK_BOX (best), self->best_use);
  gtk_widget_set_visible (best, FALSE);

  self->table = kestrel_bench_table_new ();
  g_signal_connect_swapped (self->table, "use-cell", G_CALLBACK (use_cell), self);
  self->comparison = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->comparison), 0);
  gtk_label_set_selectable (GTK_LABEL (self->comparison), TRUE);
  gtk_widget_add_css_class (self->comparison, "monospace");
  gtk_widget_set_visible (self->comparison, FALSE);

  gtk_box_append (GTK_BOX (self), top);
  gtk_box_append (GTK_BOX (self), intro);
  gtk_box_append (GTK_BOX (self), self->status);
  gtk_box_append (GTK_BOX (self), best);
  gtk_box_append (GTK_BOX (self), heading (_("Saved Runs"), NULL));
  gtk_box_append (GTK_BOX (self), runs);
  for (guint i = 0; i < N_CHARTS; i++)
    {
      self->charts[i] = kestrel_bench_chart_new (chart_info[i].kind);
      gtk_box_append (GTK_BOX (self), heading (_(chart_info[i].title), export_menu (chart_info[i].id)));
      gtk_box_append (GTK_BOX (self), self->charts[i]);
    }
  /* Wide numbers and notes: the table scrolls sideways in a narrow window
   * rather than squeezing the charts. */
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->table);
  csv = gtk_button_new_with_mnemonic (_("Export _CSV…"));
  gtk_widget_add_css_class (csv, "flat");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (csv), "bench.export");
  gtk_actionable_set_action_target (GTK_ACTIONABLE (csv), "s", "csv");
  gtk_widget_set_tooltip_text (csv, _("Save the table as comma-separated values"));
  gtk_box_append (GTK_BOX (self), heading (_("Every Number"), csv));
  gtk_box_append (GTK_BOX (self), scroller);
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->comparison);
  gtk_box_append (GTK_BOX (self), scroller);

  reload_saved (self);
  if (self->saved->len > 0)
    {
      g_autoptr(GError) error = NULL;
      if (!kestrel_benchmark_view_show_file (self, self->saved->pdata[0], &error))
        report_error (self, error->message);
    }
}

static void
kestrel_benchmark_view_dispose (GObject *object)
{
  KestrelBenchmarkView *self = KESTREL_BENCHMARK_VIEW (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  set_charts (self, NULL, NULL, NULL, NULL);
  if (self->table != NULL)
    kestrel_bench_table_set_result (KESTREL_BENCH_TABLE (self->table), NULL);
  /* The settings outlive the view (the window's): no handler may stay. */
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (kestrel_benchmark_view_parent_class)->dispose (object);
}

static void
kestrel_benchmark_view_finalize (GObject *object)
{
  KestrelBenchmarkView *self = KESTREL_BENCHMARK_VIEW (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->result, kestrel_bench_result_free);
  g_clear_pointer (&self->other, kestrel_bench_result_free);
  g_free (self->result_name);
  g_free (self->other_name);
  g_free (self->model_spec);
  g_clear_pointer (&self->saved, g_ptr_array_unref);
  G_OBJECT_CLASS (kestrel_benchmark_view_parent_class)->finalize (object);
}

static void
kestrel_benchmark_view_get_property (GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
  switch (id)
    {
    case PROP_RUNNING:
      g_value_set_boolean (value, kestrel_benchmark_view_get_running (KESTREL_BENCHMARK_VIEW (object)));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, id, pspec);
    }
}

static void
kestrel_benchmark_view_class_init (KestrelBenchmarkViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kestrel_benchmark_view_dispose;
  object_class->finalize = kestrel_benchmark_view_finalize;
  object_class->get_property = kestrel_benchmark_view_get_property;
  gtk_widget_class_install_action (GTK_WIDGET_CLASS (klass), "bench.export", "s", export_activated);
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

GtkWidget *
kestrel_benchmark_view_new (void)
{
  return g_object_new (KESTREL_TYPE_BENCHMARK_VIEW, NULL);
}
