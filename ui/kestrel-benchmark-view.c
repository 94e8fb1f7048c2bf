/* kestrel-benchmark-view.c — see kestrel-benchmark-view.h.
 *
 * Built in code rather than a .ui file: the table's rows and the saved-run
 * lists are made from results at run time anyway.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>

#include "kestrel-bench-chart.h"
#include "kestrel-bench-compare.h"
#include "kestrel-bench-result.h"
#include "kestrel-benchmark-view.h"
#include "kestrel-builtin-models.h"
#include "kestrel-samples.h"
#include "kestrel-ui.h"

struct _KestrelBenchmarkView
{
  GtkBox parent_instance;

  char *model_spec;
  KestrelBenchOptions options;
  gboolean have_options;

  GtkWidget *run_button, *cancel_button;
  GtkWidget *progress, *status;
  GtkWidget *chart;
  GtkWidget *table;
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

/* ---- the table ------------------------------------------------------------- */

static GtkWidget *
cell_label (const char *text, gboolean numeric)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), numeric ? 1.0f : 0.0f);
  gtk_widget_set_valign (label, GTK_ALIGN_START);
  if (numeric)
    gtk_widget_add_css_class (label, "numeric");
  return label;
}

/* `decimals` after the point; "exact" for an infinite SQNR. */
static char *
number (double v, int decimals)
{
  if (isinf (v))
    return g_strdup (_("exact"));
  return isfinite (v) ? g_strdup_printf ("%.*f", decimals, v) : g_strdup ("–");
}

static void
fill_table (KestrelBenchmarkView *self)
{
  GtkGrid *grid = GTK_GRID (self->table);
  GtkWidget *child;
  const char *headings[] = {
    N_("Configuration"), N_("Median ms"), N_("p90 ms"), N_("Frames/s"), N_("CPU ms/frame"), N_("SQNR dB"),
  };
  int row = 0;

  while ((child = gtk_widget_get_first_child (self->table)) != NULL)
    gtk_grid_remove (grid, child);
  if (self->result == NULL)
    return;
  for (guint h = 0; h < G_N_ELEMENTS (headings); h++)
    {
      GtkWidget *label = cell_label (_(headings[h]), h > 0);
      gtk_widget_add_css_class (label, "heading");
      gtk_grid_attach (grid, label, h, row, 1, 1);
    }
  row++;
  for (guint i = 0; i < self->result->cells->len; i++)
    {
      const KestrelBenchCell *c = self->result->cells->pdata[i];
      g_autofree char *label = kestrel_bench_cell_dup_label (c);
      g_autofree char *median = number (c->median_ms, 3);
      g_autofree char *p90 = number (c->p90_ms, 3);
      g_autofree char *fps = number (c->frames_per_s, 1);
      g_autofree char *cpu = number (c->cpu_ms_per_frame, 3);
      g_autofree char *sqnr = number (c->sqnr_db, 1);
      const char *texts[] = { label, median, p90, fps, cpu, sqnr };

      for (guint k = 0; k < G_N_ELEMENTS (texts); k++)
        gtk_grid_attach (grid, cell_label (texts[k], k > 0), k, row, 1, 1);
      row++;
      /* The validity notes are core's sentences: shown whole under the
       * cell's numbers, in the warning colour, never only in a tooltip. */
      for (guint n = 0; n < c->notes->len; n++)
        {
          g_autofree char *text = g_strdup_printf ("⚠ %s", (const char *) c->notes->pdata[n]);
          GtkWidget *note = cell_label (text, FALSE);
          gtk_label_set_wrap (GTK_LABEL (note), TRUE);
          gtk_widget_add_css_class (note, "warning");
          gtk_widget_add_css_class (note, "caption");
          gtk_widget_set_margin_start (note, 12);
          gtk_grid_attach (grid, note, 0, row++, G_N_ELEMENTS (texts), 1);
        }
    }
}

/* ---- shown and compared ---------------------------------------------------- */

static char *
describe (const KestrelBenchResult *r)
{
  return g_strdup_printf (_("%s, %s"), r->model_name, r->created);
}

static void
refresh (KestrelBenchmarkView *self)
{
  kestrel_bench_chart_set_results (KESTREL_BENCH_CHART (self->chart), self->result, self->result_name,
                                   self->other, self->other_name);
  fill_table (self);
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
  /* The chart borrows them: let go there first. */
  kestrel_bench_chart_set_results (KESTREL_BENCH_CHART (self->chart), NULL, NULL, NULL, NULL);
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
  kestrel_bench_chart_set_results (KESTREL_BENCH_CHART (self->chart), NULL, NULL, NULL, NULL);
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

static GtkWidget *
heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  return label;
}

static void
kestrel_benchmark_view_init (KestrelBenchmarkView *self)
{
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *intro = gtk_label_new (_("Runs the model at every precision, level, thread count and batch size "
                                      "in shuffled rounds, with accuracy on the sample photos beside the "
                                      "speed. The live view pauses meanwhile."));
  GtkWidget *runs = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *scroller;

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

  self->chart = kestrel_bench_chart_new ();
  self->table = gtk_grid_new ();
  gtk_grid_set_column_spacing (GTK_GRID (self->table), 12);
  gtk_grid_set_row_spacing (GTK_GRID (self->table), 4);
  self->comparison = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->comparison), 0);
  gtk_label_set_selectable (GTK_LABEL (self->comparison), TRUE);
  gtk_widget_add_css_class (self->comparison, "monospace");
  gtk_widget_set_visible (self->comparison, FALSE);

  gtk_box_append (GTK_BOX (self), top);
  gtk_box_append (GTK_BOX (self), intro);
  gtk_box_append (GTK_BOX (self), self->status);
  gtk_box_append (GTK_BOX (self), heading (_("Saved Runs")));
  gtk_box_append (GTK_BOX (self), runs);
  gtk_box_append (GTK_BOX (self), heading (_("Latency per Configuration")));
  gtk_box_append (GTK_BOX (self), self->chart);
  /* Wide numbers and notes: the table scrolls sideways in a narrow window
   * rather than squeezing the chart. */
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->table);
  gtk_box_append (GTK_BOX (self), heading (_("Every Number")));
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
  if (self->chart != NULL)
    kestrel_bench_chart_set_results (KESTREL_BENCH_CHART (self->chart), NULL, NULL, NULL, NULL);
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
  properties[PROP_RUNNING] = g_param_spec_boolean ("running", NULL, NULL, FALSE,
                                                   G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

GtkWidget *
kestrel_benchmark_view_new (void)
{
  return g_object_new (KESTREL_TYPE_BENCHMARK_VIEW, NULL);
}
